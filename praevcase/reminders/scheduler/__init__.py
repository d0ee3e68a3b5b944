"""The scheduler process (``flask --app wsgi scheduler run``), a feature of its own so its CLI group is found.

One process is active: it holds a PostgreSQL advisory lock on a dedicated connection for its
whole life; further copies stand by and take over when it dies. It runs APScheduler 3.11
(BlockingScheduler, MemoryJobStore, explicit job ids, coalesce, max_instances=1) with the
jobs of praevcase.reminders.jobs. It is never started inside web workers.
"""
