// The demo's sign-in page: a click on a demo login fills the form.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest(".fill-login");
  if (!button) return;
  const form = document.querySelector("form[action='/login']");
  form.elements.email.value = button.dataset.email;
  form.elements.password.value = button.dataset.password;
  form.querySelector("button[type=submit]").focus();
});
