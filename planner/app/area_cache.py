"""Study areas built from uploads or downloads, kept for every session of the app process."""

from __future__ import annotations

import threading
from collections import OrderedDict

from planner.app.study_area import StudyArea


class AreaCache:
    """Study areas built from uploads or downloads, by key; the newest ``size`` are kept.

    Shared by every session of the app process (the areas are read-only); thread-safe.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._areas: OrderedDict[str, StudyArea] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> StudyArea | None:
        """The area built for ``key``, or None (it then counts as the newest)."""
        with self._lock:
            area = self._areas.get(key)
            if area is not None:
                self._areas.move_to_end(key)
            return area

    def put(self, key: str, area: StudyArea) -> None:
        """Keep ``area`` under ``key``, dropping the oldest beyond ``size``."""
        with self._lock:
            self._areas[key] = area
            self._areas.move_to_end(key)
            while len(self._areas) > self._size:
                self._areas.popitem(last=False)
