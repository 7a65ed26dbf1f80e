// The WebSocket to the server (docs/protocol.md): connect, reconnect with backoff, send. What the
// page does with frames and with the connection's ups and downs is the caller's (main.js wires it).
import { _ } from "./util.js";

const BACKOFF_MIN = 500;
const BACKOFF_MAX = 10000;
const SIGNED_OUT = 4401; // the server's close code for a user who may no longer chat

let url = "";
let handlers = null;
let socket = null;
let connectedOnce = false;
let backoff = BACKOFF_MIN;
let reconnectTimer = null;

/**
 * Opens the socket at `path` and keeps it open. handlers: onOpen(reconnected), onFrame(frame),
 * onClose() (before a reconnect), onSignedOut() (no reconnect), onStatus(text) ("" when connected).
 */
export function start(path, callbacks) {
  url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  handlers = callbacks;
  window.addEventListener("online", () => {
    if (!socket && reconnectTimer !== null) {
      backoff = BACKOFF_MIN;
      connect();
    }
  });
  connect();
}

/** Sends a frame now; false when not connected (nothing is queued here). */
export function send(frame) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

export function isConnected() {
  return !!socket && socket.readyState === WebSocket.OPEN;
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    if (socket !== ws) return;
    const reconnected = connectedOnce;
    connectedOnce = true;
    backoff = BACKOFF_MIN;
    handlers.onStatus("");
    handlers.onOpen(reconnected);
  });
  ws.addEventListener("message", (event) => {
    if (socket !== ws) return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame && typeof frame === "object") handlers.onFrame(frame);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    if (event.code === SIGNED_OUT) {
      // Deactivated or signed out: reconnecting cannot help, logging in again might.
      handlers.onSignedOut();
      return;
    }
    handlers.onClose();
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (reconnectTimer !== null) return;
  handlers.onStatus(connectedOnce ? _("Reconnecting…") : _("Connecting…"));
  const delay = backoff;
  backoff = Math.min(backoff * 2, BACKOFF_MAX);
  reconnectTimer = setTimeout(connect, delay);
}
