// response_mode=web_message: hands the authorization response to the page that opened this one (a hidden iframe for
// silent authentication, or a popup), only at the origin of the application's redirect URI.
(function () {
  var holder = document.getElementById('authorization-response');
  var target = window.opener || window.parent;
  if (!holder || target === window) return;
  target.postMessage({ type: 'authorization_response', response: JSON.parse(holder.dataset.response) }, holder.dataset.redirectUri);
  if (window.opener) window.close();
})();
