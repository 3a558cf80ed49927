// Commune autocomplete: choosing a proposed commune fills the hidden INSEE code field.
// Typing again empties it: the server then reads the typed text (a commune named in full
// is accepted, anything else gets a message) instead of the commune chosen before.
// The autocomplete reads the typed text as « q » (htmx sends the field under its own name).
document.addEventListener("htmx:configRequest", function (event) {
  const input = event.target.closest("[data-commune-picker] input[type=text]");
  if (!input) return;
  event.detail.parameters.q = input.value;
});
document.addEventListener("input", function (event) {
  const input = event.target.closest("[data-commune-picker] input[type=text]");
  if (!input) return;
  input.closest("[data-commune-picker]").querySelector("input[type=hidden]").value = "";
});
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-commune-picker] button[data-insee]");
  if (!button) return;
  const picker = button.closest("[data-commune-picker]");
  picker.querySelector("input[type=hidden]").value = button.dataset.insee;
  const input = picker.querySelector("input[type=text]");
  input.value = button.dataset.label;
  picker.querySelector("#commune-resultats").innerHTML = "";
  input.focus();
});
