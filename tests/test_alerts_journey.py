"""The whole journey against a real SMTP server: subscribe, confirm, get an alert, manage,
unsubscribe in one click from the alert's own header, and get nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import time_machine
from conftest import csrf_token
from test_subscribing import body, form_data, local, path_of, subscriber

from directory.alerts import run_alerts

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_subscribe_confirm_alert_manage_and_one_click_unsubscribe(
    client, smtp_server, create_opportunity
):
    with time_machine.travel(NOW, tick=True):
        client.post("/subscribe", data=form_data(client, language="en", buffer_days=""))
        confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
        client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
        assert subscriber().status == "active"
        create_opportunity(
            "Travel grant for paralegals in Nairobi",
            deadlines=[("application", (NOW + timedelta(days=10)).date(), time(12), "UTC")],
            kind="travel_grant",
            countries=("KE",),
            offers_travel=True,
            summary_text="Covers visa costs for human rights defenders.",
        )
        create_opportunity(
            "Grant elsewhere",
            deadlines=[("application", (NOW + timedelta(days=10)).date(), time(12), "UTC")],
            kind="grant",
            countries=("FR",),
        )

        assert run_alerts(NOW).sent == 1
        alert = smtp_server.wait_for(2)[1]
        assert alert.recipients == ["ana@example.org"]
        assert "Travel grant for paralegals" in body(alert) and "Grant elsewhere" not in body(alert)
        assert "Africa/Nairobi" in body(alert)

        manage = path_of(alert, "/alerts/manage/")
        assert "ana@example.org" in client.get(manage).get_data(as_text=True)

        https = alert.message["List-Unsubscribe"].split(",")[0].strip(" <>")
        one_click = client.application.test_client().post(
            local(https), data={"List-Unsubscribe": "One-Click"}
        )
        assert one_click.status_code == 200
        assert subscriber().status == "unsubscribed"

    later = NOW + timedelta(days=7, hours=1)  # the 3-day alert would be due now
    with time_machine.travel(later, tick=True):
        assert run_alerts(later).sent == 0
    assert len(smtp_server.messages) == 2
