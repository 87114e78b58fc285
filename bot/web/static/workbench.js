// Progressive enhancement only: every page works without it.
document.documentElement.classList.remove("no-js");
document.querySelectorAll("[data-toggle]").forEach(function (button) {
  button.addEventListener("click", function () {
    var panel = document.getElementById(button.getAttribute("data-toggle"));
    if (panel) panel.classList.toggle("open");
  });
});
// Opening a ticket action closes the others, so a phone shows one form at a time.
document.querySelectorAll("details.act").forEach(function (d) {
  d.addEventListener("toggle", function () {
    if (!d.open) return;
    document.querySelectorAll("details.act").forEach(function (o) { if (o !== d) o.open = false; });
    var field = d.querySelector("textarea, select");
    if (field) field.focus();
  });
});
// Ask before an action that cannot be undone (data-confirm on its button).
document.querySelectorAll("button[data-confirm]").forEach(function (button) {
  button.addEventListener("click", function (event) {
    if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });
});
// 常用回复: choosing one fills the reply box at once (without JavaScript the 填入 button reloads the page with it).
document.querySelectorAll("select[data-fill]").forEach(function (select) {
  var box = document.getElementById(select.getAttribute("data-fill"));
  var button = select.form.querySelector("button.fill");
  if (!box) return;
  if (button) button.hidden = true;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    if (!option.value) return;
    box.value = option.getAttribute("data-text");
    box.rows = 5;
    box.focus();
  });
});
