// django-otp-webauthn announces a new passkey with an event; then show the
// list of devices, with it.
document.addEventListener("otp_webauthn.register_complete", () => {
  const section = document.getElementById("passkey-registration");
  window.location.assign(section.dataset.doneUrl);
});
