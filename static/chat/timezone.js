// Tells the server the browser's time zone (the `tz` cookie, read by chat/timezones.py), so that
// server-rendered dates come out in local time from the next page on.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  // IANA names (Asia/Shanghai, America/Port-au-Prince, Etc/GMT+8) are valid cookie text as they are;
  // the server reads the cookie without URL-decoding it, so it is not encoded.
  // (The escaped / is for xgettext, which takes a bare one in a class for the end of the regex.)
  if (!zone || !/^[A-Za-z0-9_+\/-]+$/.test(zone)) return; // eslint-disable-line no-useless-escape
  if (document.cookie.split("; ").indexOf("tz=" + zone) !== -1) return;
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
})();
