from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from staff_mfa.logins import reset_devices


class Command(BaseCommand):
    help = (
        "Remove a staff login's authenticator apps, passkeys and recovery codes; "
        "they set up a new device at their next login. For a superuser who has "
        "lost them all (others are reset in the admin's list of users)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        reset_devices(user)
        self.stdout.write(f"Two-factor login reset for {username}.")
