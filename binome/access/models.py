from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import PermissionDenied
from django.db import models


class AuditKind(models.TextChoices):
    LOGIN = "login", "Connexion"
    LOGIN_FAILED = "login_failed", "Échec de connexion"
    LOCKOUT = "lockout", "Compte verrouillé après des échecs répétés"
    LOGOUT = "logout", "Déconnexion"
    OTP_FAILED = "otp_failed", "Code de double authentification refusé"
    OTP_ENABLED = "otp_enabled", "Double authentification activée"
    OTP_DISABLED = "otp_disabled", "Double authentification désactivée"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Réinitialisation demandée"
    PASSWORD_CHANGED = "password_changed", "Mot de passe modifié"
    PROCONNECT_LINKED = "proconnect_linked", "Compte ProConnect associé"
    PROCONNECT_REFUSED = "proconnect_refused", "Connexion ProConnect refusée"
    ORGANISATION_CREATED = "organisation_created", "Organisation créée"
    ORGANISATION_UPDATED = "organisation_updated", "Organisation modifiée"
    MEMBER_INVITED = "member_invited", "Membre invité"
    MEMBER_DEACTIVATED = "member_deactivated", "Membre désactivé"
    MEMBER_REACTIVATED = "member_reactivated", "Membre réactivé"
    ROLE_CHANGED = "role_changed", "Rôle modifié"
    TERRITORY_ROLE_GRANTED = "territory_role_granted", "Rôle territorial attribué"
    TERRITORY_ROLE_REVOKED = "territory_role_revoked", "Rôle territorial retiré"
    EXPORT = "export", "Export"
    STRUCTURE_DECLARED = "structure_declared", "Structure déclarée à l'annuaire"
    STRUCTURE_UPDATED = "structure_updated", "Structure de l'annuaire modifiée"
    STRUCTURE_APPROVED = "structure_approved", "Structure de l'annuaire validée"
    STRUCTURE_REJECTED = "structure_rejected", "Structure de l'annuaire refusée"
    SERVICE_CREATED = "service_created", "Service de l'annuaire créé"
    SERVICE_UPDATED = "service_updated", "Service de l'annuaire modifié"
    SERVICE_PUBLISHED = "service_published", "Service de l'annuaire publié"
    SERVICE_UNPUBLISHED = "service_unpublished", "Service de l'annuaire dépublié"
    SERVICE_CONFIRMED = "service_confirmed", "Service de l'annuaire confirmé à jour"
    SERVICE_REPORTED = "service_reported", "Erreur signalée sur un service"
    SERVICE_REPORT_RESOLVED = "service_report_resolved", "Signalement traité"
    API_TOKEN_CREATED = "api_token_created", "Jeton d'API créé"
    API_TOKEN_REVOKED = "api_token_revoked", "Jeton d'API révoqué"
    READ = "read", "Consultation"
    DIRECTORY_IMPORT = "directory_import", "Import de l'annuaire"
    PERSON_CREATED = "person_created", "Dossier de personne créé"
    PERSON_FOUND = "person_found", "Recherche d'une personne existante"
    PERSON_UPDATED = "person_updated", "Dossier de personne corrigé"
    HOUSEHOLD_CHANGED = "household_changed", "Foyer modifié"
    CONSENT_RECORDED = "consent_recorded", "Consentement enregistré"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consentement retiré"
    ACCOMPANIMENT_OPENED = "accompaniment_opened", "Accompagnement ouvert"
    ACCOMPANIMENT_CHANGED = "accompaniment_changed", "Accompagnement : changement d'état"
    ACCOMPANIMENT_EXTENDED = "accompaniment_extended", "Accompagnement prolongé"
    ACCOMPANIMENT_ENDED = "accompaniment_ended", "Sortie d'accompagnement"
    TEAM_JOINED = "team_joined", "Arrivée dans l'équipe d'un dossier"
    TEAM_LEFT = "team_left", "Départ de l'équipe d'un dossier"
    TEAM_CHANGED = "team_changed", "Équipe d'un dossier : référent ou rôle changé"
    JOIN_REQUESTED = "join_requested", "Demande pour rejoindre l'équipe d'un dossier"
    JOIN_DECLINED = "join_declined", "Demande pour rejoindre une équipe refusée ou retirée"
    IDENTITY_SEARCH_REFUSED = "identity_search_refused", "Recherche d'identité refusée (limite)"
    NOTE_WRITTEN = "note_written", "Note d'entretien écrite"
    APPOINTMENT_CHANGED = "appointment_changed", "Rendez-vous enregistré"
    DIAGNOSTIC_RECORDED = "diagnostic_recorded", "Diagnostic partagé enregistré"
    DIAGNOSTIC_COMMENTED = "diagnostic_commented", "Commentaire du diagnostic"
    DIAGNOSTIC_UPDATED = "diagnostic_updated", "Brouillon de diagnostic modifié"
    DIAGNOSTIC_VALIDATED = "diagnostic_validated", "Diagnostic partagé validé"
    DIAGNOSTIC_DELETED = "diagnostic_deleted", "Brouillon de diagnostic supprimé"
    ACCOMPANIMENT_DECIDED = "accompaniment_decided", "Décision après le diagnostic partagé"
    SUPPORT_SETTINGS_CHANGED = (
        "support_settings_changed",
        "Réglages de l'accompagnement global modifiés",
    )
    PLAN_CHANGED = "plan_changed", "Plan d'action modifié"
    SITUATION_CHANGED = "department_situation_changed", "Situations du diagnostic modifiées"
    MAGIC_LINK_REQUESTED = "magic_link_requested", "Lien de connexion demandé"
    MAGIC_LINK_REFUSED = "magic_link_refused", "Lien de connexion refusé"
    PERSONS_MERGED = "persons_merged", "Doublons de personnes fusionnés"
    ACCOMPANIMENT_FOLLOWUP = "accompaniment_followup", "Situation à 6 mois enregistrée"
    RSA_IMPORT = "rsa_import", "Import d'un flux RSA"
    RSA_ORIENTED = "rsa_oriented", "RSA : orientation décidée"
    RSA_REFERENT = "rsa_referent", "RSA : référent de parcours désigné"
    RSA_CONTRACT = "rsa_contract", "RSA : contrat d'engagement signé"
    RSA_DEADLINE = "rsa_deadline", "RSA : échéance signalée"
    RSA_RECONCILED = "rsa_reconciled", "RSA : personne rapprochée d'un dossier"
    RSA_REORIENTATION_ASKED = "rsa_reorientation_asked", "RSA : réorientation demandée"
    REFERRAL_SENT = "referral_sent", "Orientation envoyée"
    REFERRAL_CHANGED = "referral_changed", "Orientation : changement d'état"
    REFERRAL_ASSIGNED = "referral_assigned", "Orientation attribuée"
    REFERRAL_SETTINGS_CHANGED = "referral_settings_changed", "Délais des orientations modifiés"
    REFERRAL_LINK_SENT = "referral_link_sent", "Orientation : lien sécurisé envoyé"
    REFERRAL_LINK_REFUSED = "referral_link_refused", "Orientation : lien sécurisé refusé"
    CHILDCARE_PROVIDER_UPDATED = "childcare_provider_updated", "Garde d'enfants : places déclarées"
    CHILDCARE_REQUEST_SENT = "childcare_request_sent", "Garde d'enfants : demande envoyée"
    CHILDCARE_REQUEST_CHANGED = "childcare_request_changed", "Garde d'enfants : réponse ou suite"
    CHILDCARE_SETTINGS_CHANGED = (
        "childcare_settings_changed",
        "Garde d'enfants : réglages du territoire modifiés",
    )
    STEERING_SETTINGS_CHANGED = (
        "steering_settings_changed",
        "Pilotage : réglages du territoire modifiés",
    )
    COMITE_SESSION_PLANNED = "comite_session_planned", "Comité de pilotage : séance planifiée"
    COMITE_CASE_FLAGGED = "comite_case_flagged", "Comité de pilotage : situation présentée"
    COMITE_CASE_DECIDED = "comite_case_decided", "Comité de pilotage : recommandation"
    FSE_EXPORTED = "fse_exported", "FSE+ : données des participants exportées"
    FSE_ANSWERS_RECORDED = "fse_answers_recorded", "FSE+ : questionnaire du participant"
    FSE_OPERATION_CREATED = "fse_operation_created", "FSE+ : opération créée"
    RETENTION_RUN = "retention_run", "Conservation : passage du traitement"
    RETENTION_NOTICE = "retention_notice", "Conservation : anonymisation annoncée"
    FILE_ANONYMISED = "file_anonymised", "Dossier anonymisé"
    FILE_ERASED = "file_erased", "Dossier créé par erreur effacé"
    LEGAL_HOLD_SET = "legal_hold_set", "Conservation pour motif légal posée"
    LEGAL_HOLD_LIFTED = "legal_hold_lifted", "Conservation pour motif légal levée"
    AUDIT_PARTITIONS = "audit_partitions", "Journal d'audit : mois créés ou expirés"
    DATA_ACCESS_REQUESTED = "data_access_requested", "Droit d'accès : demande enregistrée"
    DATA_ACCESS_ANSWERED = "data_access_answered", "Droit d'accès : données remises"
    FILE_ARCHIVED = "file_archived", "Dossier archivé (archive intermédiaire)"
    ARCHIVE_READ = "archive_read", "Consultation d'archive"
    FILE_RESTORED = "file_restored", "Dossier archivé rétabli"
    ARCHIVE_SETTINGS_CHANGED = "archive_settings_changed", "Archive intermédiaire : réglage modifié"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Append-only: the application can add rows, never change or remove them."""

    def update(self, **kwargs: object) -> int:
        raise PermissionDenied("Le journal d'audit ne se modifie pas.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("Le journal d'audit ne se supprime pas.")

    def reads_of_person(self, person_id: int) -> AuditEventQuerySet:
        return self.filter(kind=AuditKind.READ, person_id=person_id)


class AuditEvent(models.Model):
    """One line of the audit log: who did or read what, from which organisation, when.

    Rows are append-only: the model refuses updates and deletes, and a database
    trigger (migration 0002) refuses UPDATE and DELETE from any client.
    """

    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    kind = models.CharField("événement", max_length=40, choices=AuditKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    # Snapshots: the line stays readable even if the account is later anonymised.
    actor_label = models.CharField("auteur (au moment des faits)", max_length=300, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation",
    )
    organisation_label = models.CharField(
        "organisation (au moment des faits)", max_length=200, blank=True
    )
    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="département",
    )
    target_type = models.CharField("objet", max_length=60, blank=True)
    target_id = models.CharField("identifiant de l'objet", max_length=64, blank=True)
    # The person whose file was read or touched: their own page lists these lines.
    person_id = models.BigIntegerField("personne concernée", null=True, blank=True)
    # The persons a list page named (one line per page view, not one per person): their
    # own page lists the line too.
    person_ids = ArrayField(
        models.BigIntegerField(), verbose_name="personnes nommées", default=list, blank=True
    )
    what = models.CharField("détail", max_length=300, blank=True)
    ip_address = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    details = models.JSONField("données", default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person_id", "-created_at"], name="audit_person_reads"),
            models.Index(fields=["department", "-created_at"], name="audit_department"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor"),
            GinIndex(fields=["person_ids"], name="audit_listed_persons"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_kind_display()} — {self.actor_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionDenied("Le journal d'audit ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("Le journal d'audit ne se supprime pas.")
