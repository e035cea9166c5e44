"""The metrics of DESIGN §5: funnels, channels and omnichannel, satisfaction, support, loyalty,
comments, periods, statistics, friction, the scorecard that gathers them (levels judged on
the last 12 months, ``scorecard.judged_window``), and the Overview's pictures as numbers
(``overview_tiles.py``: headline tiles, compact funnel, bullet rows, friction links).

Public names: ``funnel.FunnelQuery``, ``funnel.FunnelResult``, ``funnel.funnel``,
``funnel.funnel_from_counts``, ``funnel.journey_funnel``, ``scorecard.all_metrics``,
``scorecard.judged_window``, ``scorecard.overview``, ``scorecard.scorecard``,
``scorecard.top_friction``, ``overview_tiles.headline_tiles``, ``overview_tiles.bullet_rows``,
``overview_tiles.overview_funnel``, ``overview_tiles.friction_link``."""
