"""Recurring runs: cron schedules in a time zone, run keys and run variables.

A low stage (it imports only the model): the validator judges schedules and
run variables with it, compile renders a run's body with it, and the planner
asks it which ticks are due. Cron arithmetic is cronsim's (see `cron`)."""
