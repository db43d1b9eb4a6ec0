"""The store layer, the only code that talks to MLflow: opening the store, retries and reads
(``mlflow_store``), writing one run (``writer``), the names of every tag and artifact the core
writes and reads (``names``), run identity (``keys``), and what a tracking URI is and whether it
can be reached, without importing MLflow (``uris``)."""
