-- Two databases on one server, kept apart: Airflow's metadata and the news data.
CREATE USER airflow WITH PASSWORD 'airflow';
CREATE DATABASE airflow OWNER airflow;
CREATE USER newsflow WITH PASSWORD 'newsflow';
CREATE DATABASE newsflow OWNER newsflow;
