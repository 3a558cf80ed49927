// Commune autocomplete: choosing a proposed commune fills the hidden INSEE code field.
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
