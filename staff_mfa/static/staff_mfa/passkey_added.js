// django-otp-webauthn announces a new passkey with an event; then show the
// list of devices, with it.
document.addEventListener("otp_webauthn.register_complete", () => {
  const placeholder = document.getElementById("passkey-registration-placeholder");
  window.location.assign(placeholder.dataset.doneUrl);
});
