from django.core.management.base import BaseCommand, CommandError

from ledger.services import ledger_reconcile


class Command(BaseCommand):
    help = (
        "Prove the ledger: every journal sums to zero, every cached cash balance equals its "
        "postings (and their balance_after chain), the whole book sums to zero. Exits 1 and "
        "names each problem otherwise."
    )

    def handle(self, *args, **options):
        report = ledger_reconcile()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Ledger reconciled: {report.summary()}."))
            return
        for problem in report.problems:
            self.stderr.write(f"{problem.code}: {problem.message}")
        raise CommandError(
            f"Ledger does NOT reconcile: {len(report.problems)} problem(s). {report.summary()}."
        )
