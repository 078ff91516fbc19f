"""Reading the repository for people: offer history mined from git (``history``), one offer's
timeline (``timeline``), metrics (``metrics``), the ``report`` value and its content-cached
offer reader (``report``, ``offer_reader``), the HTML dashboard, SLA reminders (``remind``)
and the HRIS export (``export``). May import ``lifecycle`` and everything below it; not
``checks``, ``setup`` or the CLI. Plotly is imported lazily by the dashboard.
"""
