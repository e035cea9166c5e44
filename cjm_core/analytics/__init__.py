"""The metrics of DESIGN §5: funnels, channels and omnichannel, satisfaction, support, loyalty,
comments, periods, statistics, friction, and the scorecard that gathers them.

Public names: ``funnel.FunnelQuery``, ``funnel.FunnelResult``, ``funnel.funnel``,
``funnel.funnel_from_counts``, ``funnel.journey_funnel``, ``scorecard.all_metrics``,
``scorecard.overview``, ``scorecard.scorecard``, ``scorecard.top_friction``."""
