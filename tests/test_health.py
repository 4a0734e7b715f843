"""/healthz answers for monitors: 200 with the database up, 503 when it cannot be reached."""


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(app_config, instance_dir, caplog):
    from directory import create_app

    app_config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://postgres@127.0.0.1:9/openings"
    app = create_app(app_config, instance_path=str(instance_dir))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
    assert any("database unavailable" in r.getMessage() for r in caplog.records)


def test_pages_say_unavailable_when_the_database_is_down(app_config, instance_dir):
    from directory import create_app

    app_config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://postgres@127.0.0.1:9/openings"
    app = create_app(app_config, instance_path=str(instance_dir))
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert b"Temporarily unavailable" in response.data
