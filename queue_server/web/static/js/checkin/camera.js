/*
 * Antre camera reader: the kiosk's own camera reads a ticket's QR code (for a
 * kiosk without a USB scanner). The decoder (vendor/jsQR.js, from npm) is
 * added only when a camera is used, so kiosks with a scanner never load it.
 * Browsers give the camera only to secure pages (https or localhost) and
 * after the visitor taps: a kiosk on plain http keeps the scanner only.
 *
 *   AntreCamera.available()                -> Promise<boolean>
 *   var reader = AntreCamera.start(video, decoderUrl, onText, onFail)
 *   reader.stop()
 */
(function (global) {
  'use strict';

  var FRAME_MS = 200; // five looks a second: quick enough for a held phone, light on an old kiosk CPU
  var loading = null;

  function media() {
    var nav = global.navigator;
    return nav && nav.mediaDevices && nav.mediaDevices.getUserMedia ? nav.mediaDevices : null;
  }

  function available() {
    var devices = media();
    if (!devices || global.isSecureContext === false || !devices.enumerateDevices) return Promise.resolve(false);
    return devices.enumerateDevices().then(function (list) {
      return list.some(function (d) {
        return d.kind === 'videoinput';
      });
    }, function () {
      return false;
    });
  }

  function loadDecoder(url) {
    if (global.jsQR) return Promise.resolve(global.jsQR);
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var script = global.document.createElement('script');
      script.src = url;
      script.onload = function () {
        if (global.jsQR) resolve(global.jsQR);
        else reject(new Error('no decoder'));
      };
      script.onerror = function () {
        loading = null;
        reject(new Error('decoder did not load'));
      };
      global.document.head.appendChild(script);
    });
    return loading;
  }

  function start(video, decoderUrl, onText, onFail) {
    var stopped = false;
    var stream = null;
    var timer = null;
    var canvas = global.document.createElement('canvas');
    var ctx = canvas.getContext('2d', { willReadFrequently: true });

    function stop() {
      stopped = true;
      clearTimeout(timer);
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.srcObject = null;
    }

    function look(decode) {
      if (stopped) return;
      if (video.readyState >= 2 && video.videoWidth) {
        // A small frame is plenty for a QR code a hand's width away, and quick to decode.
        var scale = Math.min(1, 480 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var found = decode(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' });
        if (found && found.data) {
          onText(found.data);
          return;
        }
      }
      timer = setTimeout(function () { look(decode); }, FRAME_MS);
    }

    var devices = media();
    if (!devices) {
      onFail(new Error('no camera'));
      return { stop: stop };
    }
    Promise.all([loadDecoder(decoderUrl), devices.getUserMedia({ video: { facingMode: 'user' }, audio: false })])
      .then(function (got) {
        stream = got[1];
        if (stopped) {
          stop();
          return;
        }
        video.srcObject = stream;
        video.setAttribute('playsinline', '');
        var playing = video.play();
        if (playing && playing.catch) playing.catch(function () { /* muted preview; decoding goes on */ });
        look(got[0]);
      }, function (err) {
        stop();
        onFail(err);
      });
    return { stop: stop };
  }

  global.AntreCamera = { available: available, start: start };
})(window);
