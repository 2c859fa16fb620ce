"""Dossiers (issue 4): import the one-stop system's export, look a dossier up for its owner,
notify subscribers, report to staff.

The values (`Case`, its statuses, the lookup request and result) live in `bot.models`, where the
store can use them. The modules, by concept:

- `table`, `xlsx`: a CSV/XLSX file into numbered rows, and its header row;
- `fields`: what one cell means (header and status aliases, dates, phones, names);
- `topics`: the procedure cell to a knowledge-base topic;
- `parse`: the rows into `Case`s and `Rejected` rows with reasons;
- `lookup`: a code and digits in a message, the lock policy;
- `dates`: office dates (UTC+7) and lateness;
- `replies`: what the citizen reads; `notices`: the notices and messaging windows;
- `report`: the figures staff publish;
- `actions`: the only calls that touch the Store (import, lookup).

Nothing is re-exported here: import from the module that holds the name.
"""
