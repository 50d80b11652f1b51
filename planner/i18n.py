"""The report's words in English and Chinese: one small, explicit table.

Every text a report, chart or map shows to a reader is looked up here by key, with
:func:`text`. Placeholders are ``str.format`` fields; both languages of a key have the same
fields (a test checks it). User data (station names, file names) is never part of these
templates' text: it is passed in as values and escaped by the caller.
"""

from __future__ import annotations

from typing import Literal, get_args

from planner.errors import InputDataError

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: key -> (English, Chinese)
TEXTS: dict[str, tuple[str, str]] = {
    # --- title and headline figures
    "title": ("Walking coverage of service stations", "服务站步行覆盖报告"),
    "subtitle": (
        "{minutes} minutes' walk at {speed} km/h ({metres} m along the streets)",
        "步行 {minutes} 分钟，步速 {speed} 公里/小时（沿街道 {metres} 米）",
    ),
    "made": (
        "Made {created} with service-circle planner {version}",
        "生成时间 {created}，service-circle planner {version}",
    ),
    "key_figures": ("Key figures", "主要指标"),
    "share_covered": (
        "of people live within {minutes} minutes' walk of a station",
        "的人口居住在服务站步行 {minutes} 分钟范围内",
    ),
    "people_covered_of": ("{covered} of {total} people", "{total} 人中的 {covered} 人"),
    "within_band": ("People within {minutes} min", "{minutes} 分钟内人口"),
    "homes_n": ("{homes} homes", "{homes} 处住宅"),
    "stations": ("Stations", "服务站"),
    "stations_off": ("{n} off the street network", "{n} 个不在街道网络上"),
    "gap_zones": ("Gap zones", "覆盖缺口区"),
    "gap_people": ("{people} people not served", "{people} 人未被覆盖"),
    "people_not_served": ("People not served", "未覆盖人口"),
    "walk_median": ("Median walk", "步行时间中位数"),
    "walk_p90": ("90% of people within {value}", "90% 的人口在 {value} 以内"),
    "unreachable": ("unreachable", "无法到达"),
    "homes_total": ("Homes / demand points", "住宅 / 需求点"),
    "homes_detail": (
        "{off} off the network, {unreachable} unreachable",
        "{off} 个不在网络上，{unreachable} 个无法到达",
    ),
    # --- parameters and sources
    "parameters": ("Parameters and data", "参数与数据"),
    "p_limit": ("Walk limit", "步行时间标准"),
    "p_speed": ("Walking speed", "步行速度"),
    "p_distance": ("Walk distance", "步行距离"),
    "p_snap": ("Largest snap distance", "最大吸附距离"),
    "p_gap_link": ("Gap zone link distance", "缺口区连接距离"),
    "p_bands": ("Walk-time bands", "步行时间分段"),
    "p_network": ("Street network", "街道网络"),
    "p_network_size": ("{nodes} junctions, {km} km of street", "{nodes} 个路口，街道 {km} 公里"),
    "p_network_date": ("Network data date", "路网数据日期"),
    "p_date_unknown": ("not recorded in the file", "文件中未记录"),
    "p_stations": ("Stations", "服务站"),
    "p_demand": ("Population", "人口"),
    "p_rejected": ("Rejected input rows", "被拒绝的输入行"),
    "p_none": ("none", "无"),
    "not_stated": ("not stated", "未说明"),
    "unit_km_h": ("{value} km/h", "{value} 公里/小时"),
    "unit_m": ("{value} m", "{value} 米"),
    "unit_min": ("{value} min", "{value} 分钟"),
    # --- map and charts
    "map": ("Map", "地图"),
    "map_caption": (
        "Walk time to the nearest station along the streets, homes served (blue) and not "
        "(red), gap zones (dashed). Layers can be switched on and off; click a station for "
        "its figures. Background tiles load only when online.",
        "沿街道到最近服务站的步行时间、已覆盖（蓝色）和未覆盖（红色）的住宅以及缺口区（虚线）。"
        "图层可开关；点击服务站查看其指标。底图仅在联网时加载。",
    ),
    "map_print_caption": (
        "Overview map (the interactive map is in the HTML version of this report).",
        "概览图（交互式地图见本报告的 HTML 版本）。",
    ),
    "charts": ("Charts", "图表"),
    "chart_walk": ("Walk-time distribution", "步行时间分布"),
    "chart_walk_caption": (
        "People by walk time to their nearest station, in one-minute steps; bars beyond the "
        "{minutes}-minute limit are grey. Not shown: {off} people off the network or "
        "unreachable.",
        "按到最近服务站步行时间（每分钟一档）统计的人口；超出 {minutes} 分钟标准的为灰色。"
        "未显示：{off} 名不在网络上或无法到达的人口。",
    ),
    "chart_stations": ("People served per station", "各服务站服务人口"),
    "chart_stations_caption": (
        "People within {minutes} minutes of each station (light) and those served by no other "
        "station (dark). {shown}",
        "各服务站 {minutes} 分钟内的人口（浅色）及仅由该站覆盖的人口（深色）。{shown}",
    ),
    "chart_top": (
        "The {n} stations serving most people are shown.",
        "仅显示服务人口最多的 {n} 个服务站。",
    ),
    "chart_districts": ("Coverage by district", "各区覆盖率"),
    "chart_districts_caption": (
        "Share of each district's people within {minutes} minutes' walk of a station.",
        "各区居住在服务站步行 {minutes} 分钟内的人口比例。",
    ),
    "axis_minutes": ("walk time to nearest station (min)", "到最近服务站的步行时间（分钟）"),
    "axis_people": ("people", "人口"),
    "axis_share": ("share of people covered", "人口覆盖率"),
    "legend_served": ("within the limit", "标准范围内"),
    "legend_only": ("served by no other station", "仅由该站覆盖"),
    "legend_beyond": ("beyond the limit", "超出标准"),
    # --- tables
    "tables": ("Tables", "表格"),
    "t_stations": ("Stations", "服务站"),
    "t_stations_note": (
        'A person within reach of several stations counts for each of them in "people '
        'served"; "only here" counts people no other station reaches; overlap is the '
        "difference. Full table: stations.csv.",
        "可到达多个服务站的居民在每个服务站的“服务人口”中都计入；“仅此站”只计没有其他服务站"
        "可到达的人口；重叠为两者之差。完整表格见 stations.csv。",
    ),
    "c_id": ("id", "编号"),
    "c_name": ("name", "名称"),
    "c_category": ("category", "类别"),
    "c_served": ("people served", "服务人口"),
    "c_only": ("only here", "仅此站"),
    "c_overlap": ("overlap", "重叠"),
    "c_homes": ("homes", "住宅"),
    "c_on_network": ("on the network", "在街道网络上"),
    "yes": ("yes", "是"),
    "no_snap": ("no (over {m} m from a street)", "否（距街道超过 {m} 米）"),
    "t_districts": ("Districts", "各区"),
    "t_districts_none": (
        "No district boundaries were given (planner report --districts FILE adds this table "
        "and its chart).",
        "未提供区划边界（使用 planner report --districts FILE 可添加此表及图表）。",
    ),
    "c_district": ("district", "区"),
    "c_population": ("people", "人口"),
    "c_covered": ("covered", "已覆盖"),
    "c_uncovered": ("not covered", "未覆盖"),
    "c_share": ("share", "覆盖率"),
    "outside_districts": ("outside the districts given", "不在所给区划内"),
    "total": ("total", "合计"),
    "t_gaps": ("Gap zones", "覆盖缺口区"),
    "t_gaps_note": (
        "Homes beyond the limit that lie within {link} m of each other form one zone, "
        "largest population first. Walk time is from the zone's closest home to its nearest "
        "station.",
        "超出标准且彼此相距 {link} 米以内的住宅构成一个缺口区，按人口从多到少排列。"
        "步行时间为缺口区内最近的住宅到其最近服务站的时间。",
    ),
    "t_gaps_none": (
        "No gap zones: everyone is within the limit.",
        "没有覆盖缺口：所有人口均在标准范围内。",
    ),
    "c_gap": ("zone", "缺口区"),
    "c_walk_nearest": ("walk to nearest station (min)", "到最近服务站步行（分钟）"),
    "c_nearest_station": ("nearest station", "最近服务站"),
    "c_suggested": ("suggested site", "建议站点"),
    "suggested_none": ("none in this zone", "本区无"),
    "t_sites": ("Suggested sites", "建议站点"),
    # --- scenario comparison
    "comparison": ("Scenario comparison", "方案对比"),
    "comparison_intro": (
        "Before: {before}. After: {after} (this report).",
        "对比前：{before}。对比后：{after}（本报告）。",
    ),
    "c_measure": ("measure", "指标"),
    "c_before": ("before", "对比前"),
    "c_after": ("after", "对比后"),
    "c_change": ("change", "变化"),
    "cmp_share": ("share covered", "覆盖率"),
    "cmp_covered": ("people covered", "覆盖人口"),
    "cmp_within": ("people within {minutes} min", "{minutes} 分钟内人口"),
    "cmp_stations": ("stations", "服务站数"),
    "cmp_gaps": ("gap zones", "缺口区数"),
    "cmp_gap_people": ("people in gap zones", "缺口区人口"),
    "gained": ("People gained: {gained}.", "新增覆盖人口：{gained}。"),
    "gained_by_home": (
        "Home by home: {newly} people newly covered, {lost} no longer covered.",
        "逐户比较：新增覆盖 {newly} 人，不再覆盖 {lost} 人。",
    ),
    "station_changes": (
        "Stations matched by id: {added} added, {moved} moved, {removed} removed, "
        "{unchanged} unchanged.",
        "按编号匹配服务站：新增 {added} 个，迁移 {moved} 个，"
        "撤销 {removed} 个，未变 {unchanged} 个。",
    ),
    "c_change_kind": ("change", "变化"),
    "c_moved_m": ("moved (m)", "迁移距离（米）"),
    "c_served_before": ("people served before", "对比前服务人口"),
    "c_served_after": ("people served after", "对比后服务人口"),
    "added": ("added", "新增"),
    "moved": ("moved", "迁移"),
    "removed": ("removed", "撤销"),
    "unchanged": ("unchanged", "未变"),
    "params_differ": (
        "The two scenarios use different parameters ({what}): their figures are not directly "
        "comparable.",
        "两个方案使用了不同的参数（{what}），其指标不能直接比较。",
    ),
    "demand_differs": (
        'The two scenarios count different homes or population; "people gained" mixes '
        "station changes and demand changes.",
        "两个方案的住宅或人口不同；“新增覆盖人口”同时反映了服务站和需求的变化。",
    ),
    # --- methods
    "methods": ("Methods and limitations", "方法与局限"),
    "m_network": (
        "Streets: {network}. The walking network takes every street open to pedestrians as "
        "walkable in both directions and keeps its largest connected part ({left_out}). "
        "Data date: {date}.",
        "街道：{network}。步行网络将所有允许步行的街道视为双向可行，并保留最大的连通部分"
        "（{left_out}）。数据日期：{date}。",
    ),
    "m_left_out": (
        "{parts} disconnected parts, {km} km of street left out",
        "舍弃 {parts} 个不连通部分，共 {km} 公里街道",
    ),
    "m_nothing_left_out": ("nothing left out", "无舍弃部分"),
    "m_walk": (
        "Walking speed: {speed} km/h, so {minutes} minutes is {metres} m along the streets. The "
        "speed is constant: slopes, stairs and waiting at crossings are not modelled.",
        "步行速度：{speed} 公里/小时，{minutes} 分钟即沿街道 {metres} 米。速度恒定，未考虑坡度、"
        "台阶和过街等待。",
    ),
    "m_snap": (
        "Snapping: each station and home is attached to the nearest street (not the nearest "
        "junction), at its position along that street. One farther than {snap} m from every "
        "street is reported as off the network and counted as not served, never moved. The "
        "straight line from a point to its street is not counted as walking.",
        "吸附规则：每个服务站和住宅连接到最近的街道（而非最近的路口），并记录其在街道上的位置。"
        "距所有街道超过 {snap} 米的点被报告为不在网络上、计为未覆盖，不会被移动。"
        "点到街道的直线距离不计入步行距离。",
    ),
    "m_times": (
        "Walk times: one shortest-path search from all stations at once gives every home its "
        "walk distance to the nearest station; a home is served when that distance is within "
        "the limit. Bands on the map are built from the streets reached, cut exactly at the "
        "limit and widened by {buffer} m, not from straight-line circles.",
        "步行时间：从所有服务站同时进行一次最短路径搜索，得到每个住宅到最近服务站的步行距离；"
        "距离在标准以内即为已覆盖。地图上的分段由可到达的街道构成，在标准处精确截断并向两侧扩展 "
        "{buffer} 米，而不是直线圆形缓冲区。",
    ),
    "m_population": ("Population: {demand}.", "人口：{demand}。"),
    "m_stations": ("Stations: {stations}.", "服务站：{stations}。"),
    "m_gaps": (
        "Gap zones: homes beyond the limit within {link} m of each other are grouped into one "
        "zone.",
        "缺口区：超出标准且彼此相距 {link} 米以内的住宅归为一个缺口区。",
    ),
    "limitations": ("Known limitations", "已知局限"),
    "lim_osm": (
        "OpenStreetMap may miss footpaths, passages through blocks and crossings, or include "
        "paths that are closed to the public (gated compounds): coverage can be under- or "
        "overstated locally.",
        "OpenStreetMap 可能缺少人行道、街坊内通道和过街设施，也可能包含不对公众开放的道路"
        "（如封闭小区）：局部覆盖可能被低估或高估。",
    ),
    "lim_population": (
        "The population figures are an estimate, not a census, unless a population table "
        "was given.",
        "除非提供了人口表，人口数字为估算值而非普查数据。",
    ),
    "lim_entrances": (
        "Homes and stations are points (a building's representative point), not their entrances.",
        "住宅和服务站以点表示（建筑的代表点），而非其出入口。",
    ),
    "lim_service": (
        "Opening hours, capacity and the kind of service offered are not considered: a "
        "station counts for everyone within reach.",
        "未考虑开放时间、服务能力和服务类型：服务站对其可达范围内的所有人都计为覆盖。",
    ),
    "attribution": (
        "Map data and street network © OpenStreetMap contributors, available under the Open "
        "Database License (ODbL).",
        "地图数据和街道网络 © OpenStreetMap 贡献者，依据开放数据库许可协议（ODbL）提供。",
    ),
    "files": (
        "Files of the same run: summary.json (these figures), coverage.gpkg (GIS layers), "
        "stations.csv, demand.csv, gaps.csv, map.html.",
        "同一次运行的文件：summary.json（本报告的指标）、coverage.gpkg（GIS 图层）、"
        "stations.csv、demand.csv、gaps.csv、map.html。",
    ),
    # --- map layers and legend (planner.report.maps)
    "map_legend_title": ("Walk time to nearest station", "到最近服务站的步行时间"),
    "map_layer_streets": ("Streets (walk network)", "街道（步行网络）"),
    "map_layer_bands": ("Walk time to nearest station", "到最近服务站的步行时间"),
    "map_layer_isochrones": ("Isochrones per station", "各服务站等时圈"),
    "map_layer_gaps": ("Gap zones (not served)", "覆盖缺口区（未覆盖）"),
    "map_layer_homes": ("Homes (blue served, red not)", "住宅（蓝色已覆盖，红色未覆盖）"),
    "map_sampled": ("({shown} of {total} shown)", "（显示 {shown} / {total}）"),
    "map_layer_stations": ("Stations", "服务站"),
    "map_layer_sites": ("Suggested sites", "建议站点"),
    "map_band_range": ("{low}-{high} min", "{low}-{high} 分钟"),
    "map_within_band": ("within {minutes} min of a station", "距服务站 {minutes} 分钟内"),
    "map_station": ("station", "服务站"),
    "map_home_in": ("home within the limit", "标准范围内的住宅"),
    "map_home_out": ("home beyond the limit", "超出标准的住宅"),
    "map_gap": ("gap zone", "缺口区"),
    "map_site": ("suggested site", "建议站点"),
    "map_people_within": ("people within {minutes} min", "{minutes} 分钟内人口"),
    "map_homes_within": ("homes within {minutes} min", "{minutes} 分钟内住宅"),
    "map_only_here": ("served by no other station", "仅由该站覆盖"),
    "map_on_network": ("on the network", "在街道网络上"),
    "map_people": ("people", "人口"),
    "map_homes": ("homes", "住宅"),
    "map_minutes_nearest": ("minutes to nearest station", "到最近服务站分钟数"),
    "map_minutes": ("minutes", "分钟"),
    "map_status": ("status", "状态"),
}


def check_language(language: str) -> Language:
    """Return ``language`` when it is one of :data:`LANGUAGES`, else raise InputDataError."""
    for lang in LANGUAGES:
        if language == lang:
            return lang
    msg = f"language must be one of {', '.join(LANGUAGES)}, got {language!r}."
    raise InputDataError(msg)


def text(key: str, language: Language, **values: object) -> str:
    """The text of ``key`` in ``language``, with ``values`` filled in (not escaped).

    Parameters
    ----------
    key
        A key of :data:`TEXTS`.
    language
        ``"en"`` or ``"zh"``.
    **values
        Values of the template's placeholders.
    """
    en, zh = TEXTS[key]
    template = zh if language == "zh" else en
    return template.format(**values) if values else template
