"""The Lotse's contact log: one row per contact with the family, its summary and the next step (sealed)."""
from __future__ import annotations

import enum
import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent.scopes import DataCategory
from praevcase.database import CreatedMixin
from praevcase.database import IdMixin
from praevcase.extensions import db
from praevcase.privacy import vault
from praevcase.privacy.erasure import register_erasable_table
from praevcase.tenancy import TenantScoped


class ContactSetting(str, enum.Enum):
    """Where the contact took place."""

    home = "home"
    kita = "kita"
    school = "school"
    familienzentrum = "familienzentrum"
    clinic = "clinic"
    office = "office"
    phone = "phone"


SETTING_LABELS = {
    ContactSetting.home: "Zuhause (Hausbesuch)",
    ContactSetting.kita: "Kita",
    ContactSetting.school: "Schule",
    ContactSetting.familienzentrum: "Familienzentrum",
    ContactSetting.clinic: "Klinik, Praxis",
    ContactSetting.office: "Büro, Sprechstunde",
    ContactSetting.phone: "Telefon",
}


class Contact(IdMixin, CreatedMixin, TenantScoped, db.Model):
    """A contact of the Lotse with the family of a case.

    The next step's text is sealed like the summary (it may name people); its due date is in
    clear, so overdue steps can be listed and reminded without decrypting anything.
    """

    __tablename__ = "lotse_contacts"
    __table_args__ = (
        sa.CheckConstraint("(next_step_ct IS NULL) = (next_step_due IS NULL)", name="next_step_has_due_date"),
        sa.Index("ix_lotse_contacts_case_date", "case_id", "contact_date"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    #: The Lotse who logged it
    author_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    contact_date: Mapped[date] = mapped_column()
    setting: Mapped[ContactSetting] = mapped_column(
        sa.Enum(ContactSetting, native_enum=False, create_constraint=True, length=20, name="contact_setting",
                validate_strings=True))
    #: What was discussed, DataCategory.case_notes
    summary_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: The agreed next step, DataCategory.case_notes
    next_step_ct: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    next_step_due: Mapped[date | None] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<Contact {self.id}>"


vault.register_fields("lotse_contacts", {"summary": DataCategory.case_notes, "next_step": DataCategory.case_notes})
# erasure of a family: summary and next step go (with its due date), the rows stay for the counts
register_erasable_table("lotse_contacts", through=("case_id", "cases"), clear=("next_step_due",))
