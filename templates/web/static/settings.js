// Firm settings, progressive enhancement: the hex code beside the colour picker follows the choice.
(function () {
  var picker = document.getElementById("accent_colour");
  var hex = document.getElementById("accent-hex");
  if (!picker || !hex) return;
  picker.addEventListener("input", function () { hex.textContent = picker.value; });
})();
