# Airflow 3.3 with newsflow installed (pinned by constraints.txt). Used by docker-compose.yml.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root pyproject.toml constraints.txt README.md /opt/newsflow/
COPY --chown=airflow:root pipeline /opt/newsflow/pipeline
COPY --chown=airflow:root sql /opt/newsflow/sql
COPY --chown=airflow:root config /opt/newsflow/config
RUN pip install --no-cache-dir -c /opt/newsflow/constraints.txt "/opt/newsflow[airflow]"
COPY --chown=airflow:root dags /opt/airflow/dags
