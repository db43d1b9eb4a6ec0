"""The store layer: the only code that talks to MLflow (``mlflow_store``), the names of every
tag and artifact the core writes and reads (``names``), and run identity (``keys``)."""
