"""Service-circle planner: who can walk to a service station within 15 minutes."""

from __future__ import annotations

__version__ = "0.1.0"
