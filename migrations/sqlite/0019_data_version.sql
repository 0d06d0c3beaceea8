-- A number that moves with every change to what pages show, on whichever server or process
-- made it (a form, the worker, the CLI, another server on the database): a rendered page is
-- kept under it (server/src/web/kept_pages.rs) and never served once it moved. Triggers move
-- it, so no write path can forget to. Left out are the tables no page reads, written far
-- more often than pages change: the worker lease (renewed every few seconds), the pages' AWS
-- budget and the sign-in attempts (an attacker at the sign-in form). A new table gets its
-- triggers here, or is named in the list of tables pages never read
-- (`schema_parity::every_table_pages_read_moves_the_data_version`).
CREATE TABLE data_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
CREATE TRIGGER api_keys_insert_moves_data_version AFTER INSERT ON api_keys
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER api_keys_update_moves_data_version AFTER UPDATE ON api_keys
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER api_keys_delete_moves_data_version AFTER DELETE ON api_keys
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER audit_insert_moves_data_version AFTER INSERT ON audit
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER audit_update_moves_data_version AFTER UPDATE ON audit
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER audit_delete_moves_data_version AFTER DELETE ON audit
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER gateway_status_insert_moves_data_version AFTER INSERT ON gateway_status
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER gateway_status_update_moves_data_version AFTER UPDATE ON gateway_status
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER gateway_status_delete_moves_data_version AFTER DELETE ON gateway_status
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER gateways_insert_moves_data_version AFTER INSERT ON gateways
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER gateways_update_moves_data_version AFTER UPDATE ON gateways
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER gateways_delete_moves_data_version AFTER DELETE ON gateways
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER generations_insert_moves_data_version AFTER INSERT ON generations
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER generations_update_moves_data_version AFTER UPDATE ON generations
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER generations_delete_moves_data_version AFTER DELETE ON generations
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER health_events_insert_moves_data_version AFTER INSERT ON health_events
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER health_events_update_moves_data_version AFTER UPDATE ON health_events
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER health_events_delete_moves_data_version AFTER DELETE ON health_events
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER installation_insert_moves_data_version AFTER INSERT ON installation
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER installation_update_moves_data_version AFTER UPDATE ON installation
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER installation_delete_moves_data_version AFTER DELETE ON installation
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER metric_points_insert_moves_data_version AFTER INSERT ON metric_points
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER metric_points_update_moves_data_version AFTER UPDATE ON metric_points
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER metric_points_delete_moves_data_version AFTER DELETE ON metric_points
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER metric_reads_insert_moves_data_version AFTER INSERT ON metric_reads
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER metric_reads_update_moves_data_version AFTER UPDATE ON metric_reads
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER metric_reads_delete_moves_data_version AFTER DELETE ON metric_reads
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER plan_steps_insert_moves_data_version AFTER INSERT ON plan_steps
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER plan_steps_update_moves_data_version AFTER UPDATE ON plan_steps
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER plan_steps_delete_moves_data_version AFTER DELETE ON plan_steps
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER plans_insert_moves_data_version AFTER INSERT ON plans
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER plans_update_moves_data_version AFTER UPDATE ON plans
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER plans_delete_moves_data_version AFTER DELETE ON plans
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER prices_insert_moves_data_version AFTER INSERT ON prices
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER prices_update_moves_data_version AFTER UPDATE ON prices
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER prices_delete_moves_data_version AFTER DELETE ON prices
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER users_insert_moves_data_version AFTER INSERT ON users
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER users_update_moves_data_version AFTER UPDATE ON users
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER users_delete_moves_data_version AFTER DELETE ON users
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER webhook_deliveries_insert_moves_data_version AFTER INSERT ON webhook_deliveries
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER webhook_deliveries_update_moves_data_version AFTER UPDATE ON webhook_deliveries
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER webhook_deliveries_delete_moves_data_version AFTER DELETE ON webhook_deliveries
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER webhooks_insert_moves_data_version AFTER INSERT ON webhooks
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER webhooks_update_moves_data_version AFTER UPDATE ON webhooks
BEGIN UPDATE data_version SET version = version + 1; END;
CREATE TRIGGER webhooks_delete_moves_data_version AFTER DELETE ON webhooks
BEGIN UPDATE data_version SET version = version + 1; END;
