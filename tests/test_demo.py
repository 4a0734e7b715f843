"""`flask demo load`: the sample feeds become opportunities, once, with no network."""

from directory.extensions import db
from directory.models import Opportunity, Source


def test_demo_load_fills_an_empty_database_once(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded" in result.output
    count = db.session.scalar(db.select(db.func.count()).select_from(Opportunity))
    assert count >= 30
    sources = db.session.scalars(db.select(Source)).all()
    assert len(sources) == 5 and {s.kind for s in sources} == {"sample"}

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0
    assert "already loaded" in again.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == count


def test_demo_opportunities_are_listed(runner, client):
    runner.invoke(args=["demo", "load"])
    html = client.get("/").get_data(as_text=True)
    assert html.count('<li>\n    <h2><a href="/opportunities/') >= 20
