"""The Lotse workspace: "Meine Familien", the contact log, next steps, re-review and handover."""
