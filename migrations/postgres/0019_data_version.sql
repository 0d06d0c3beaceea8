-- PostgreSQL's side of sqlite/0019_data_version.sql. The version moves when a transaction
-- commits (a deferred constraint trigger), so its row is the last lock a writer takes: two
-- writers can never wait for each other through it. It moves once per transaction however
-- many rows it wrote: a setting local to the transaction says it has moved already.
CREATE TABLE data_version (
    id       BIGINT  PRIMARY KEY CHECK (id = 1),
    version  BIGINT  NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
CREATE FUNCTION move_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('portico.data_version_moved', true) IS DISTINCT FROM 'yes' THEN
        UPDATE data_version SET version = version + 1 WHERE id = 1;
        PERFORM set_config('portico.data_version_moved', 'yes', true);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER api_keys_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON api_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER audit_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON audit
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER gateway_status_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON gateway_status
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER gateways_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON gateways
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER generations_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON generations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER health_events_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON health_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER installation_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON installation
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER metric_points_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON metric_points
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER metric_reads_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON metric_reads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER plan_steps_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON plan_steps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER plans_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON plans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER prices_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON prices
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER users_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER webhook_deliveries_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON webhook_deliveries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
CREATE CONSTRAINT TRIGGER webhooks_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON webhooks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_data_version();
