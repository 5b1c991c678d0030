"""``kefu customer export`` and ``kefu customer erase``: a customer's personal data from the
command line, audited as the cli."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models import AuditEvent, Customer
from kefu.services.customers.personal_data import ERASED
from tests import factories

runner = CliRunner()


def test_export_then_erase(db, cli_env, tmp_path):
    customer = factories.make_customer(db, name="赵六", phone="13700001111")
    factories.make_ticket(db, customer=customer, text="电话13700001111，包裹破损")
    printed = runner.invoke(app, ["customer", "export", str(customer.id)])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["customer"]["phone"] == "13700001111"
    out = tmp_path / "report.md"
    written = runner.invoke(
        app, ["customer", "export", str(customer.id), "--format", "report", "--out", str(out)]
    )
    assert written.exit_code == 0, written.output
    assert "包裹破损" in out.read_text(encoding="utf-8")

    no_reason = runner.invoke(app, ["customer", "erase", str(customer.id), "--yes"])
    assert no_reason.exit_code != 0
    erased = runner.invoke(
        app, ["customer", "erase", str(customer.id), "--reason", "客户来信要求", "--yes"]
    )
    assert erased.exit_code == 0, erased.output
    assert "1 ticket(s)" in erased.stdout
    db.expire_all()
    assert db.get(Customer, customer.id).name == ERASED
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.customer_id == customer.id)
    ).all()
    assert actions.count("customer.access") == 2 and "customer.erase" in actions
    missing = runner.invoke(app, ["customer", "export", "999999"])
    assert missing.exit_code == 1
