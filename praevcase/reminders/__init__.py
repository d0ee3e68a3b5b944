"""Reminders: rows with a unique dedupe key, created by idempotent sweeps, delivered in-app and by e-mail.

How it works
------------
A *reminder kind* (registry.ReminderKind) is a due-query, a recipient rule, a German text and a
validity check. Every sweep (``jobs.run_sweep``: the scheduler, ``flask --app wsgi reminders
sweep`` or cron) does, per tenant and kind:

1. the validity pass: open reminders of the kind whose reason is gone (state changed, consent
   withdrawn, corridor over, recipient deactivated) are cancelled;
2. the due-query: every :class:`~praevcase.reminders.registry.Occasion` whose corridor is open
   becomes one row per recipient, keyed ``kind:subject:occurrence:recipient`` and inserted with
   ``ON CONFLICT DO NOTHING`` — a second sweep, or a second sweeper at the same moment, creates
   nothing twice;

then queues e-mails (at once, or as a daily digest per the user's setting) in the outbox, which
``jobs.run_deliver`` sends with retries. Rows are claimed ``FOR UPDATE SKIP LOCKED`` throughout.

Adding a kind in another feature
--------------------------------
Create ``praevcase/<feature>/reminder_kinds.py`` (found by convention for every feature in
``praevcase.FEATURES``) and register the kind at import::

    from praevcase.reminders.registry import Occasion, ReminderKind, register_kind
    from praevcase.reminders.operations import state_is

    def _due(ctx):                      # ctx: SweepContext(tenant, settings, now); ctx.reminders = windows
        days = ctx.reminders["lotse_no_contact_days"]
        for case_id, number, lotse_id, last in db.session.execute(<query, ctx.tenant_id, a partial index>):
            yield Occasion(subject_type="case", subject_id=case_id, occurrence=last.date().isoformat(),
                           opens_dt=last + timedelta(days=days), due_dt=last + timedelta(days=days + 7),
                           case_number=number, link_path=f"/faelle/{case_id}", user_ids=(lotse_id,),
                           params={"days": days})

    def _valid(ctx, reminders):         # ids of the reminders whose reason still holds
        ...

    register_kind(ReminderKind(name="lotse_no_contact", label="Lotse: Kontakt aufnehmen", due=_due,
                               still_valid=_valid, text=lambda p: f"Seit {p['days']} Tagen kein Kontakt"))

Rules for a kind: the due-query reads only rows that can be due (give it a partial index, so a
sweep costs in proportion to the due items); ``occurrence`` says which instance of the reason it
is (a new one reminds again, the same one never); texts and params carry no names or details,
only the pseudonymous case number goes out by e-mail. Recipients are ``user_ids`` (while active)
or the active staff of ``agency_id`` holding one of ``recipient_roles``. After changing a subject,
call ``operations.recheck_subject(subject_id, now=now)`` so its reminders disappear at once.
Work that must happen before the reminders are computed (like marking school start) registers
with ``registry.register_job(name, run)``; it runs at the start of every sweep.

The windows and thresholds live in the tenant settings under ``reminders`` (tenants/settings.py);
keys already reserved for the features being built: ``lotse_no_contact_days``,
``agenda_cutoff_notice_days``, ``rereview_notice_days``, ``referral_not_started_days``,
``retention_notice_days``.

Kinds implemented: ``u1_handover_due``, ``u1_follow_up_due``, ``u2_issue_due``,
``handover_not_received`` (praevcase/transitions/reminder_kinds.py); ``consent_expiring`` and
``retention_due`` (praevcase/privacy/reminder_kinds.py); ``agenda_cutoff`` and ``rereview_due``
(praevcase/sessions/reminder_kinds.py); ``lotse_no_contact`` (praevcase/lotse/reminder_kinds.py);
``referral_not_started`` (praevcase/referrals/reminder_kinds.py).
"""
