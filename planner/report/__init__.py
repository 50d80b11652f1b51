"""Maps, charts, the HTML report, GeoPackage and CSV outputs, scenario comparison."""
