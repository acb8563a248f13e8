// The sandbox console: polls GET /api/messages every second and renders Block Kit.
// Clicks and /ops commands go to the sandbox server, which signs them as Slack does and
// POSTs them to the bot's front door. Everything from the bot is escaped before display.
"use strict";

const state = {
  data: { channels: [], users: [], messages: [], ephemerals: [], activity: [], team: {} },
  channel: null,          // channel id
  user: localStorage.getItem("eventops.user") || "U0OPERATOR",
  thread: null,           // thread_ts open in the side pane
  seen: JSON.parse(localStorage.getItem("eventops.seen") || "{}"), // channel id → top-level count seen
  lastSignature: "",
  pending: new Set(),     // "ts|action_id" of clicks in flight
  home: false,            // the app's Home tab is open instead of a channel
};

const $ = (sel) => document.querySelector(sel);

// --- text -------------------------------------------------------------------------------------

const EMOJI = {
  rotating_light: "🚨", warning: "⚠️", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌",
  red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡", large_green_circle: "🟢",
  large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫", large_purple_circle: "🟣",
  snooze: "💤", zzz: "💤", lock: "🔒", unlock: "🔓", shield: "🛡️", fire: "🔥", bell: "🔔",
  no_bell: "🔕", hourglass: "⌛", hourglass_flowing_sand: "⏳", arrows_counterclockwise: "🔄",
  leftwards_arrow_with_hook: "↩️", information_source: "ℹ️", mag: "🔍", gear: "⚙️", wrench: "🔧",
  no_entry: "⛔", no_entry_sign: "🚫", stop_sign: "🛑", eyes: "👀", thumbsup: "👍", "+1": "👍",
  point_right: "👉", bulb: "💡", link: "🔗", clipboard: "📋", memo: "📝", bar_chart: "📊",
  chart_with_upwards_trend: "📈", cloud: "☁️", computer: "💻", key: "🔑", package: "📦",
  rocket: "🚀", tada: "🎉", skull: "💀", boom: "💥", construction: "🚧", question: "❓",
  grey_question: "❔", exclamation: "❗", heavy_minus_sign: "➖", radio_button: "🔘",
  large_orange_diamond: "🔶", small_orange_diamond: "🔸", small_blue_diamond: "🔹",
  speech_balloon: "💬", busts_in_silhouette: "👥", bust_in_silhouette: "👤", robot_face: "🤖",
  heavy_exclamation_mark: "❗", ballot_box_with_check: "☑️", twisted_rightwards_arrows: "🔀",
  money_with_wings: "💸", moneybag: "💰", stopwatch: "⏱️", alarm_clock: "⏰", clock3: "🕒",
};

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Slack escapes &, < and > in message text; undo that before escaping for HTML.
function unslack(s) {
  return String(s ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// Coloured circles and check marks drawn with CSS: they carry meaning (severity, outcome) and
// many Linux machines (and CI's Chromium) have no colour emoji font.
const dot = (color) => `<span class="emo dot" style="background:${color}"></span>`;
const box = (color, mark) => `<span class="emo box" style="background:${color}">${mark}</span>`;
const SHAPES = {
  red_circle: dot("#e01e5a"), large_orange_circle: dot("#f2952f"), large_yellow_circle: dot("#ecb22e"),
  large_green_circle: dot("#2eb67d"), large_blue_circle: dot("#1d9bd1"), large_purple_circle: dot("#7c3085"),
  white_circle: dot("#fff;border:1px solid #999"), black_circle: dot("#1d1c1d"),
  white_check_mark: box("#2eb67d", "✓"), heavy_check_mark: box("#2eb67d", "✓"), x: box("#e01e5a", "✗"),
};
const UNICODE_SHAPES = {
  "🔴": "red_circle", "🟠": "large_orange_circle", "🟡": "large_yellow_circle", "🟢": "large_green_circle",
  "🔵": "large_blue_circle", "🟣": "large_purple_circle", "⚪": "white_circle", "⚫": "black_circle",
  "✅": "white_check_mark", "✔️": "heavy_check_mark", "❌": "x",
};
const UNICODE_RE = new RegExp(Object.keys(UNICODE_SHAPES).join("|"), "gu");

function emoji(html) {
  return html
    .replace(/:([a-z0-9_+-]+):/g, (m, name) => SHAPES[name] || EMOJI[name] || m)
    .replace(UNICODE_RE, (ch) => SHAPES[UNICODE_SHAPES[ch]]);
}

function userName(id) {
  const u = state.data.users.find((x) => x.id === id);
  return u ? u.real_name || u.name : id;
}

function channelName(id) {
  const c = state.data.channels.find((x) => x.id === id);
  return c ? c.name : id;
}

function safeUrl(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : null;
}

// <url|label>, <@U…>, <#C…|name>, <!subteam^S…|@name>, <!here> → HTML.
function linkToken(inner) {
  const [target, label] = [inner.split("|")[0], inner.includes("|") ? inner.slice(inner.indexOf("|") + 1) : null];
  if (target.startsWith("@")) return `<span class="mention">@${esc(label || userName(target.slice(1)))}</span>`;
  if (target.startsWith("#")) return `<span class="mention">#${esc(label || channelName(target.slice(1)))}</span>`;
  if (target.startsWith("!subteam^")) return `<span class="mention">${esc(label || "@group")}</span>`;
  if (target.startsWith("!date^")) {  // Slack's date token: the reader's own time zone
    const when = new Date(Number(target.split("^")[1]) * 1000);
    const shown = isNaN(when) ? (label || "") : when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    return `<time class="slack-date" datetime="${esc(isNaN(when) ? "" : when.toISOString())}" title="${esc(label || "")}">${esc(shown)}</time>`;
  }
  if (target.startsWith("!")) {
    const word = target.slice(1).split("^")[0];
    return `<span class="mention">@${esc(label || word)}</span>`;
  }
  const url = safeUrl(unslack(target));
  const text = esc(unslack(label || target));
  return url ? `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${text}</a>` : text;
}

// Slack mrkdwn → HTML: links and mentions, `code`, ```pre```, *bold*, _italic_, ~strike~, > quotes.
function mrkdwn(text) {
  const keep = [];
  const hold = (html) => `\u0000${keep.push(html) - 1}\u0000`;
  let s = String(text ?? "");
  s = s.replace(/```([\s\S]*?)```/g, (m, code) => hold(`<pre>${esc(unslack(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (m, code) => hold(`<code>${esc(unslack(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (m, inner) => hold(linkToken(inner)));
  s = esc(unslack(s));
  s = s.replace(/(^|[\s(>\u0000])\*(?!\s)([^*\n]+?)\*(?=$|[\s).,:;!?\u0000])/g, "$1<b>$2</b>");
  s = s.replace(/(^|[\s(>\u0000])_(?!\s)([^_\n]+?)_(?=$|[\s).,:;!?\u0000])/g, "$1<i>$2</i>");
  s = s.replace(/(^|[\s(>\u0000])~(?!\s)([^~\n]+?)~(?=$|[\s).,:;!?\u0000])/g, "$1<s>$2</s>");
  s = s.split("\n").map((line) => (line.startsWith("&gt; ") ? `<blockquote>${line.slice(5)}</blockquote>` : line)).join("\n");
  s = emoji(s).replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
  return s.replace(/\u0000(\d+)\u0000/g, (m, i) => keep[Number(i)]);
}

function textObject(obj) {
  if (!obj) return "";
  if (obj.type === "mrkdwn") return mrkdwn(obj.text);
  return emoji(esc(obj.text)).replace(/\n/g, "<br>");
}

// --- Block Kit ----------------------------------------------------------------------------------

function button(el, msg, blockId) {
  const styles = el.style ? ` ${esc(el.style)}` : "";
  const key = `${msg.ts}|${el.action_id}`;
  const busy = state.pending.has(key) ? " disabled" : "";
  return `<button type="button" class="bk-button${styles}"${busy} data-ts="${esc(msg.ts)}" data-channel="${esc(msg.channel)}"
    data-action-id="${esc(el.action_id || "")}" data-value="${esc(el.value || "")}" data-block-id="${esc(blockId || "")}"
    ${el.url && safeUrl(el.url) ? `data-url="${esc(el.url)}"` : ""}
    ${el.confirm ? `data-confirm="${esc(JSON.stringify(el.confirm))}"` : ""}>${textObject(el.text)}</button>`;
}

function element(el, msg, blockId) {
  if (!el) return "";
  if (el.type === "button") return button(el, msg, blockId);
  if (el.type === "image") return `<img src="${esc(el.image_url)}" alt="${esc(el.alt_text)}" title="${esc(el.alt_text)}">`;
  if (el.type === "plain_text" || el.type === "mrkdwn") return `<span class="mrkdwn">${textObject(el)}</span>`;
  if (el.type === "static_select" && Array.isArray(el.options)) {
    const opts = el.options.map((o) => `<option value="${esc(o.value)}">${esc(o.text ? o.text.text : o.value)}</option>`).join("");
    return `<select class="bk-static-select" data-ts="${esc(msg.ts)}" data-channel="${esc(msg.channel)}"
      data-action-id="${esc(el.action_id || "")}" aria-label="${esc(el.placeholder ? el.placeholder.text : "")}">
      <option value="" selected disabled>${esc(el.placeholder ? el.placeholder.text : "Choose")}</option>${opts}</select>`;
  }
  const label = el.placeholder ? el.placeholder.text : el.type;
  return `<span class="bk-select" title="${esc(el.type)} (not interactive in the sandbox)">${esc(label)} ▾</span>`;
}

function imageWithAlt(url, alt, cls) {
  return `<div class="${cls}"><img src="${esc(url)}" alt="${esc(alt)}" onerror="this.replaceWith(Object.assign(document.createElement('span'),{className:'alt',textContent:'[image: '+this.alt+']'}))"></div>`;
}

function block(b, msg) {
  switch (b.type) {
    case "header":
      return `<div class="bk-header">${textObject(b.text)}</div>`;
    case "section": {
      let acc = "";
      if (b.accessory) {
        acc = b.accessory.type === "image"
          ? imageWithAlt(b.accessory.image_url, b.accessory.alt_text, "bk-accessory-image")
          : `<div class="bk-accessory">${element(b.accessory, msg, b.block_id)}</div>`;
      }
      const fields = (b.fields || []).map((f) => `<div class="mrkdwn">${textObject(f)}</div>`).join("");
      return `<div class="bk-section"><div class="bk-main">${b.text ? `<div class="mrkdwn">${textObject(b.text)}</div>` : ""}${
        fields ? `<div class="bk-fields">${fields}</div>` : ""}</div>${acc}</div>`;
    }
    case "context":
      return `<div class="bk-context">${(b.elements || []).map((e) => element(e, msg, b.block_id)).join("")}</div>`;
    case "divider":
      return `<hr class="bk-divider">`;
    case "image":
      return `${b.title ? `<div class="mrkdwn">${textObject(b.title)}</div>` : ""}${imageWithAlt(b.image_url, b.alt_text, "bk-image")}`;
    case "actions":
      return `<div class="bk-actions">${(b.elements || []).map((e) => element(e, msg, b.block_id)).join("")}</div>`;
    case "rich_text":
      return `<div class="mrkdwn">${esc(richText(b))}</div>`;
    default:
      return `<div class="bk-unsupported">[${esc(b.type)} block]</div>`;
  }
}

function richText(b) {
  const walk = (els) => (els || []).map((e) => e.text || (e.elements ? walk(e.elements) : "")).join("");
  return walk(b.elements);
}

function initials(name) {
  return String(name || "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
}

function clock(ts) {
  const d = new Date(parseFloat(ts) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// A file share (files.completeUploadExternal): images inline, other files as a link.
function filesHtml(files) {
  return (files || []).map((f) => {
    const url = safeUrl(f.url_private || "");
    if (!url) return "";
    return (f.mimetype || "").startsWith("image/")
      ? `<div class="msg-file">${imageWithAlt(url, f.title || f.name, "bk-file-image")}<div class="file-name">${esc(f.title || f.name)}</div></div>`
      : `<div class="msg-file"><a href="${esc(url)}" target="_blank" rel="noopener">${esc(f.title || f.name)}</a></div>`;
  }).join("");
}

function messageHtml(msg, { replies = 0, inThread = false } = {}) {
  const name = msg.ephemeral ? "EventOps" : msg.user_name || userName(msg.user);
  const bot = msg.ephemeral || msg.bot;
  const content = (msg.blocks && msg.blocks.length)
    ? msg.blocks.map((b) => block(b, msg)).join("")
    : `<div class="mrkdwn">${mrkdwn(msg.text)}</div>`;
  const repliesLink = !inThread && replies
    ? `<button type="button" class="replies" data-thread="${esc(msg.ts)}">${replies} ${replies === 1 ? "reply" : "replies"}</button>` : "";
  const menu = msg.ephemeral ? "" : shortcutMenu(msg);
  return `<div class="message${msg.ephemeral ? " ephemeral" : ""}" data-ts="${esc(msg.ts)}" data-edited="${msg.edited ? "true" : "false"}">${menu}
    <div class="avatar${bot ? " bot" : ""}">${bot ? "EO" : esc(initials(name))}</div>
    <div class="body">
      ${msg.ephemeral ? `<div class="only-you">Only visible to you</div>` : ""}
      <div class="meta"><span class="name">${esc(name)}</span>${bot ? `<span class="app">APP</span>` : ""}
        <span class="time">${esc(clock(msg.ts))}</span>${msg.edited ? `<span class="edited">(edited)</span>` : ""}</div>
      ${content}${filesHtml(msg.files)}${repliesLink}
    </div></div>`;
}

// A message's "⋯" menu: its message shortcuts (Slack lists the app's shortcuts there).
function shortcutMenu(msg) {
  return `<details class="msg-menu"><summary title="More actions">⋯</summary>
    <button type="button" class="shortcut" data-channel="${esc(msg.channel)}" data-ts="${esc(msg.ts)}">Explain with EventOps</button></details>`;
}

// --- rendering ----------------------------------------------------------------------------------

function topLevel(channelId) {
  return state.data.messages.filter((m) => m.channel === channelId && (!m.thread_ts || m.thread_ts === m.ts));
}

// --- the app's Home tab: opening it sends a signed app_home_opened; the bot publishes the view ---

async function openHome() {
  state.home = true;
  state.thread = null;
  state.lastSignature = "";
  $("#messages").innerHTML = `<div class="empty">Opening the Home tab…</div>`;
  const r = await api("/console/home", { user: state.user });
  if (!r.ok) toast(`The app answered HTTP ${r.status || "?"}: ${r.error || r.body || "error"}`, true);
  else if (r.late) toast(`The app took ${r.ms} ms; Slack would have shown a timeout after 3 s`, true);
  state.lastSignature = "";
  refresh();
}

function renderHome() {
  $("#home-link").classList.add("active");
  $("#channel-title").textContent = "EventOps · Home";
  $("#channel-hint").innerHTML = "Opening this tab sends a signed <code>app_home_opened</code>; the bot answers with <code>views.publish</code>.";
  $("#composer-form").hidden = true;
  const view = (state.data.home_views || {})[state.user];
  const blocks = view ? view.blocks : [];
  const pseudo = { ts: "home", channel: "" };
  $("#messages").innerHTML = blocks.length
    ? `<div class="home-view" data-user="${esc(state.user)}">${blocks.map((b) => block(b, pseudo)).join("")}</div>`
    : `<div class="empty">The app has not published a Home tab for you yet.</div>`;
}

function render() {
  const d = state.data;
  if (!state.channel || !d.channels.some((c) => c.id === state.channel)) {
    const preferred = d.channels.find((c) => c.name === "security") || d.channels.find((c) => c.count) || d.channels[0];
    state.channel = preferred ? preferred.id : null;
  }
  // channels
  const nav = $("#channels");
  nav.innerHTML = d.channels.map((c) => {
    const unread = c.id === state.channel ? 0 : Math.max(0, c.count - (state.seen[c.id] || 0));
    return `<a href="#" class="channel${c.id === state.channel && !state.home ? " active" : ""}${unread ? " unread" : ""}" data-id="${esc(c.id)}" data-name="${esc(c.name)}">
      <span># ${esc(c.name)}</span>${unread ? `<span class="badge">${unread}</span>` : ""}</a>`;
  }).join("");
  const current = d.channels.find((c) => c.id === state.channel);
  if (current) {
    state.seen[current.id] = current.count;
    localStorage.setItem("eventops.seen", JSON.stringify(state.seen));
  }
  if (state.home) {
    renderHome();
    $("#activity").innerHTML = d.activity.slice(-8).reverse()
      .map((a) => `<li title="${esc(new Date(a.at * 1000).toLocaleTimeString())}">${esc(a.text)}</li>`).join("");
    $("#thread").hidden = true;
    return;
  }
  $("#home-link").classList.remove("active");
  $("#composer-form").hidden = false;
  $("#channel-hint").innerHTML = "Buttons send signed <code>block_actions</code>; <code>/ops …</code> sends a signed slash command.";
  $("#channel-title").textContent = current ? `# ${current.name}` : "no channels";
  $("#composer").placeholder = current ? `Message #${current.name} — try /ops help` : "";

  // messages: top level, plus this user's ephemerals, in time order
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const ephemerals = d.ephemerals.filter((e) => e.channel === state.channel && e.user === state.user && !e.thread_ts);
  const items = [...topLevel(state.channel), ...ephemerals].sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  const replyCount = (ts) => d.messages.filter((m) => m.channel === state.channel && m.thread_ts === ts && m.ts !== ts).length;
  box.innerHTML = items.length
    ? items.map((m) => messageHtml(m, { replies: m.ephemeral ? 0 : replyCount(m.ts) })).join("")
    : `<div class="empty">No messages in this channel yet. Fire an event from the sidebar, or type <code>/ops help</code>.</div>`;
  if (atBottom) box.scrollTop = box.scrollHeight;

  renderThread();

  // activity
  $("#activity").innerHTML = d.activity.slice(-8).reverse()
    .map((a) => `<li title="${esc(new Date(a.at * 1000).toLocaleTimeString())}">${esc(a.text)}</li>`).join("");
}

function renderThread() {
  const pane = $("#thread");
  if (!state.thread) { pane.hidden = true; return; }
  const d = state.data;
  const parent = d.messages.find((m) => m.ts === state.thread && m.channel === state.channel);
  if (!parent) { pane.hidden = true; state.thread = null; return; }
  const replies = d.messages.filter((m) => m.channel === state.channel && m.thread_ts === state.thread && m.ts !== state.thread);
  const mine = d.ephemerals.filter((e) => e.channel === state.channel && e.user === state.user && e.thread_ts === state.thread);
  const items = [...replies, ...mine].sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  const opened = pane.hidden || pane.dataset.ts !== state.thread;
  pane.hidden = false;
  pane.dataset.ts = state.thread;
  const list = $("#thread-messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.innerHTML = messageHtml(parent, { inThread: true }) + items.map((m) => messageHtml(m, { inThread: true })).join("");
  if (opened || atBottom) list.scrollTop = list.scrollHeight; // the newest reply, as Slack opens a thread
}

function renderUsers() {
  const picker = $("#user-picker");
  const users = state.data.users;
  if (picker.options.length !== users.length) {
    picker.innerHTML = users.map((u) => `<option value="${esc(u.id)}">${esc(u.real_name)} (${esc(u.id)})</option>`).join("");
  }
  if (!users.some((u) => u.id === state.user) && users.length) state.user = users[0].id;
  picker.value = state.user;
  const u = users.find((x) => x.id === state.user);
  $("#user-title").textContent = u ? u.title : "";
}

// --- talking to the sandbox ---------------------------------------------------------------------

async function api(path, body) {
  const resp = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let data = {};
  try { data = await resp.json(); } catch (e) { data = { ok: false, error: `HTTP ${resp.status}` }; }
  if (!resp.ok && data.ok === undefined) data.ok = false;
  return data;
}

let toastTimer = null;
function toast(text, isError = false) {
  const t = $("#toast");
  t.textContent = text;
  t.className = isError ? "error" : "";
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 6000 : 3000);
}

async function refresh() {
  try {
    const data = await api("/api/messages");
    const signature = JSON.stringify(data) + state.user + state.channel + state.thread + [...state.pending].join();
    if (signature !== state.lastSignature) {
      state.data = data;
      state.lastSignature = signature;
      renderUsers();
      render();
    }
  } catch (e) {
    // the sandbox stopped or is restarting; keep polling
  }
}

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const dlg = $("#confirm");
    $("#confirm-title").innerHTML = textObject(confirm.title);
    $("#confirm-text").innerHTML = textObject(confirm.text);
    $("#confirm-ok").innerHTML = textObject(confirm.confirm) || "Confirm";
    $("#confirm-deny").innerHTML = textObject(confirm.deny) || "Cancel";
    $("#confirm-ok").className = confirm.style === "danger" ? "danger" : "";
    dlg.onclose = () => resolve(dlg.returnValue === "ok");
    dlg.returnValue = "";
    dlg.showModal();
  });
}

async function onButton(btn) {
  if (btn.dataset.confirm) {
    const ok = await confirmDialog(JSON.parse(btn.dataset.confirm));
    if (!ok) return;
  }
  if (btn.dataset.url) window.open(btn.dataset.url, "_blank", "noopener");
  const key = `${btn.dataset.ts}|${btn.dataset.actionId}`;
  state.pending.add(key);
  btn.disabled = true;
  try {
    const r = await api("/console/click", {
      user: state.user, channel: btn.dataset.channel, ts: btn.dataset.ts,
      action_id: btn.dataset.actionId, value: btn.dataset.value,
    });
    if (!r.ok) toast(`The app answered HTTP ${r.status || "?"}: ${r.error || r.body || "error"}`, true);
    else if (r.late) toast(`The app took ${r.ms} ms; Slack would have shown a timeout after 3 s`, true);
  } finally {
    state.pending.delete(key);
    state.lastSignature = "";
    refresh();
  }
}

async function onSelect(sel) {
  const value = sel.value;
  if (!value) return;
  sel.disabled = true;
  try {
    const r = await api("/console/click", {
      user: state.user, channel: sel.dataset.channel, ts: sel.dataset.ts, action_id: sel.dataset.actionId, value,
    });
    if (!r.ok) toast(`The app answered HTTP ${r.status || "?"}: ${r.error || r.body || "error"}`, true);
  } finally {
    state.lastSignature = "";
    refresh();
  }
}

async function onShortcut(btn) {
  btn.closest("details").open = false;
  const r = await api("/console/shortcut", { user: state.user, channel: btn.dataset.channel, ts: btn.dataset.ts });
  if (!r.ok) toast(`Explain with EventOps: ${r.error || `HTTP ${r.status}`}`, true);
  state.lastSignature = "";
  refresh();
}

async function send(text, threadTs) {
  text = text.trim();
  if (!text || !state.channel) return;
  const r = text.startsWith("/")
    ? await api("/console/command", { user: state.user, channel: state.channel, text })
    : await api("/console/say", { user: state.user, channel: state.channel, text, thread_ts: threadTs || null });
  if (!r.ok) toast(`${text.split(" ")[0]}: ${r.error || `HTTP ${r.status}`}`, true);
  state.lastSignature = "";
  refresh();
}

async function loadSamples() {
  const r = await api("/console/samples");
  $("#sample-picker").innerHTML = (r.samples || [])
    .map((s) => `<option value="${esc(s.name)}" title="${esc(s.help)}">${esc(s.name)}</option>`).join("");
}

// --- wiring ---------------------------------------------------------------------------------------

document.addEventListener("click", (ev) => {
  const btn = ev.target.closest(".bk-button");
  if (btn && !btn.disabled) { ev.preventDefault(); onButton(btn); return; }
  const home = ev.target.closest("#home-link");
  if (home) { ev.preventDefault(); openHome(); return; }
  const shortcut = ev.target.closest(".msg-menu .shortcut");
  if (shortcut) { ev.preventDefault(); onShortcut(shortcut); return; }
  const ch = ev.target.closest("#channels a");
  if (ch) { ev.preventDefault(); state.home = false; state.channel = ch.dataset.id; state.thread = null; state.lastSignature = ""; refresh(); return; }
  const replies = ev.target.closest(".replies");
  if (replies) { state.thread = replies.dataset.thread; state.lastSignature = ""; refresh(); }
});

document.addEventListener("change", (ev) => {
  const sel = ev.target.closest(".bk-static-select");
  if (sel) onSelect(sel);
});

$("#thread-close").addEventListener("click", () => { state.thread = null; state.lastSignature = ""; refresh(); });
$("#user-picker").addEventListener("change", (ev) => {
  state.user = ev.target.value;
  localStorage.setItem("eventops.user", state.user);
  state.lastSignature = "";
  if (state.home) { openHome(); return; }  // another user opens their own Home tab
  refresh();
});
$("#composer-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const box = $("#composer");
  const text = box.value;
  box.value = "";
  send(text);
});
$("#composer").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("#composer-form").requestSubmit(); }
});
$("#thread-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("#thread-input");
  send(input.value, state.thread);
  input.value = "";
});
$("#fire-button").addEventListener("click", async () => {
  const name = $("#sample-picker").value;
  const r = await api("/console/fire", { sample: name });
  toast(r.ok ? `Fired ${name}` : `Fire failed: ${r.error}`, !r.ok);
});

loadSamples();
refresh();
setInterval(refresh, 1000);
