"""Job execution: a supervisor in the Celery worker starts one training process per job
(``python -m apps.jobs.executor.run``), relays its events to the database and the job's sockets,
enforces the time limit and kills it on cancel."""
