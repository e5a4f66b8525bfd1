-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d): Rasa's tracker store gets a
-- database of its own beside the support database (POSTGRES_DB), owned by the same role (POSTGRES_USER).
CREATE DATABASE tracker OWNER support;
