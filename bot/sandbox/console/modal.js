// Modals: when the bot opened a view (views.open) for the person the console acts as, show it as
// a dialog with its inputs; Submit sends the answers to the sandbox, which POSTs a signed
// view_submission to the bot's front door, and field errors from the ack appear under the fields.
// Uses console.js's globals (state, esc, textObject, api, toast, refresh).
"use strict";

const modal = { id: null, errorsShown: "" };

function modalInput(b) {
  const el = b.element || {};
  const id = `modal-${esc(b.block_id)}`;
  const common = `id="${id}" name="${esc(b.block_id)}" data-block-id="${esc(b.block_id)}"`;
  if (el.type === "radio_buttons") {
    const initial = el.initial_option ? el.initial_option.value : null;
    return `<div class="modal-radios" role="radiogroup" aria-label="${esc(b.label.text)}">${(el.options || []).map((o, i) =>
      `<label class="modal-radio"><input type="radio" name="${esc(b.block_id)}" data-block-id="${esc(b.block_id)}" value="${esc(o.value)}"
        ${o.value === initial ? "checked" : ""} id="${id}-${i}"> ${textObject(o.text)}</label>`).join("")}</div>`;
  }
  if (el.type === "static_select") {
    const initial = el.initial_option ? el.initial_option.value : "";
    const opts = (el.options || []).map((o) =>
      `<option value="${esc(o.value)}"${o.value === initial ? " selected" : ""}>${esc(o.text ? o.text.text : o.value)}</option>`).join("");
    return `<select ${common}><option value=""${initial ? "" : " selected"}>Choose…</option>${opts}</select>`;
  }
  if (el.type === "number_input") {
    const step = el.is_decimal_allowed ? "any" : "1";
    return `<input type="number" step="${step}" ${common} value="${esc(el.initial_value || "")}"
      ${el.min_value ? `min="${esc(el.min_value)}"` : ""}>`;
  }
  if (el.multiline) {
    return `<textarea ${common} rows="3" maxlength="${esc(el.max_length || 3000)}">${esc(el.initial_value || "")}</textarea>`;
  }
  return `<input type="text" ${common} value="${esc(el.initial_value || "")}" maxlength="${esc(el.max_length || 3000)}">`;
}

function modalBlock(b) {
  if (b.type !== "input") return block(b, { ts: "", channel: "" });
  const optional = b.optional ? ` <span class="modal-optional">(optional)</span>` : "";
  return `<div class="modal-field" data-field="${esc(b.block_id)}">
    <label class="modal-label" for="modal-${esc(b.block_id)}">${textObject(b.label)}${optional}</label>
    ${modalInput(b)}
    ${b.hint ? `<div class="modal-hint">${textObject(b.hint)}</div>` : ""}
    <div class="modal-error" data-error-for="${esc(b.block_id)}" role="alert"></div></div>`;
}

function showErrors(errors) {
  const dlg = $("#modal");
  dlg.querySelectorAll(".modal-error").forEach((e) => { e.textContent = ""; });
  dlg.querySelectorAll(".modal-field").forEach((f) => f.classList.remove("has-error"));
  let general = "";
  for (const [bid, text] of Object.entries(errors || {})) {
    const slot = dlg.querySelector(`.modal-error[data-error-for="${CSS.escape(bid)}"]`);
    if (slot) { slot.textContent = text; slot.closest(".modal-field").classList.add("has-error"); }
    else general += text + " ";
  }
  $("#modal-general").textContent = general.trim();
}

function openModal(view) {
  const dlg = $("#modal");
  modal.id = view.id;
  modal.errorsShown = "";
  $("#modal-title").innerHTML = textObject(view.title);
  $("#modal-body").innerHTML = (view.blocks || []).map(modalBlock).join("");
  $("#modal-submit").hidden = !view.submit;
  $("#modal-submit").innerHTML = view.submit ? textObject(view.submit) : "";
  $("#modal-cancel").innerHTML = view.close ? textObject(view.close) : "Cancel";
  $("#modal-general").textContent = "";
  if (!dlg.open) dlg.showModal();
}

function modalValues() {
  const values = {};
  $("#modal").querySelectorAll("[data-block-id]").forEach((el) => {
    if (el.type === "radio") { if (el.checked) values[el.dataset.blockId] = el.value; }
    else values[el.dataset.blockId] = el.value;
  });
  return values;
}

function syncModal() {
  const views = (state.data.views || []).filter((v) => v.user === state.user);
  const view = views[views.length - 1];
  const dlg = $("#modal");
  if (!view) {
    if (dlg.open) dlg.close();
    modal.id = null;
    return;
  }
  const signature = JSON.stringify([view.title, view.blocks]);
  if (view.id !== modal.id || !dlg.open || dlg.dataset.signature !== signature) {
    openModal(view);
    dlg.dataset.signature = signature;
  }
  const errors = JSON.stringify(view.errors || {});
  if (errors !== modal.errorsShown) { showErrors(view.errors); modal.errorsShown = errors; }
}

$("#modal-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!modal.id) return;
  const submit = $("#modal-submit");
  submit.disabled = true;
  try {
    const r = await api("/console/view", { user: state.user, view: modal.id, values: modalValues() });
    if (r.status && r.status !== 200) toast(`The app answered HTTP ${r.status}`, true);
    if (r.errors) { showErrors(r.errors); modal.errorsShown = JSON.stringify(r.errors); }
    if (r.closed) { $("#modal").close(); modal.id = null; }
  } finally {
    submit.disabled = false;
    state.lastSignature = "";
    refresh();
  }
});

$("#modal-cancel").addEventListener("click", async () => {
  const id = modal.id;
  $("#modal").close();
  modal.id = null;
  if (id) await api("/console/view-close", { user: state.user, view: id });
  state.lastSignature = "";
  refresh();
});

setInterval(syncModal, 250);
