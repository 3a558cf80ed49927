// The referral form: the fields of one kind of orientation (data-kinds) are shown when that
// kind is chosen, hidden otherwise. Without this script every field shows, each saying
// for which kind it is required.
(function () {
  "use strict";
  var form = document.querySelector("[data-referral-form]");
  if (!form) {
    return;
  }
  function update() {
    var chosen = form.querySelector('input[name="kind"]:checked');
    var kind = chosen ? chosen.value : "";
    form.querySelectorAll("[data-kinds]").forEach(function (group) {
      var kinds = group.getAttribute("data-kinds").split(" ");
      group.hidden = kind !== "" && kinds.indexOf(kind) === -1;
    });
  }
  form.querySelectorAll('input[name="kind"]').forEach(function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
