"""The engine: the update rules (``dynamics``), members' draws (``sampling``), the event log
(``log``), policies (``policies``), the Mesa model (``model``) and batches of members
(``ensemble``). It imports nothing above the scenario layer: it knows no Result, no files and no
figures."""
