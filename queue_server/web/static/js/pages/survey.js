/*
 * The satisfaction survey for visitors (Antre.* from common.js):
 * - the counter tablet (/survey/<counter>): four faces for the visitor just
 *   finished there; it asks the server which ticket that is every few seconds.
 * - the phone (/t/<token>): once the ticket is `done`, the one-tap rating and,
 *   if the visitor wants, the nine questions one a screen, sent as one answer.
 *   It watches #phone's data-status (kept live by ticket.js) and asks the server
 *   whether this ticket answered already, so it never asks twice.
 */
(function () {
  'use strict';
  var A = window.Antre;
  if (!A) return;

  function showOnly(root, id) {
    var parts = root.querySelectorAll('[id^="phone-survey-"]');
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].tagName === 'DIV' || parts[i].tagName === 'P') parts[i].hidden = parts[i].id !== id;
    }
  }

  // ----- the counter tablet ----------------------------------------------------------------
  var tablet = A.byId('survey-tablet');
  if (tablet) {
    var counter = tablet.getAttribute('data-counter');
    var url = '/api/v1/survey/counters/' + encodeURIComponent(counter);
    var current = null;
    var faces = tablet.querySelector('.survey-faces');
    var ticketLine = A.byId('survey-ticket');
    var thanks = A.byId('survey-thanks');
    var refresh = function () {
      A.request('GET', url).then(function (res) {
        if (res.status !== 200 || !res.body) return;
        current = res.body.answered ? null : res.body.ticket;
        faces.hidden = !current;
        if (current) {
          thanks.hidden = true;
          ticketLine.textContent = A.msg('survey.tablet_for', { number: current });
        } else if (thanks.hidden) {
          ticketLine.textContent = A.msg('survey.tablet_waiting');
        }
      }, function () {});
    };
    faces.addEventListener('click', function (e) {
      var button = e.target.closest('[data-rating]');
      if (!button || !current) return;
      faces.hidden = true;
      A.send('POST', url, { rating: Number(button.getAttribute('data-rating')) }).then(function (res) {
        thanks.hidden = res.status !== 201;
        ticketLine.textContent = res.status === 201 ? '' : A.errorText(res);
        current = null;
      }, function () { faces.hidden = false; });
    });
    refresh();
    setInterval(refresh, 4000);
  }

  // ----- the phone -------------------------------------------------------------------------
  var phone = A.byId('phone');
  var box = A.byId('phone-survey');
  if (!phone || !box || !A.page.token) return;
  var base = '/api/v1/tickets/' + encodeURIComponent(A.page.token) + '/survey';
  var asked = false;
  var rating = null;
  var answers = {};
  var elements = [];
  var step = 0;

  function finish(res) {
    if (res && (res.status === 201 || (res.body && res.body.error && res.body.error.code === 'survey_already_answered'))) {
      showOnly(box, 'phone-survey-thanks');
      A.byId('phone-survey-thanks').hidden = false;
      return;
    }
    var error = A.byId('phone-survey-error');
    error.textContent = A.errorText(res);
    error.hidden = false;
  }

  function send(body) {
    A.send('POST', base, body, { retries: 2 }).then(finish, function () { finish(null); });
  }

  function question() {
    var e = elements[step];
    A.setText(A.byId('phone-survey-progress'), A.msg('survey.progress', { n: step + 1, total: elements.length }));
    A.setText(A.byId('phone-survey-question'), e.question);
    showOnly(box, 'phone-survey-step');
  }

  function maybeAsk() {
    if (asked || phone.getAttribute('data-status') !== 'done') return;
    asked = true;
    A.request('GET', base).then(function (res) {
      if (res.status === 200 && res.body && !res.body.answered) {
        box.hidden = false;
        showOnly(box, 'phone-survey-rate');
      }
    }, function () { asked = false; });
  }

  box.querySelector('.survey-faces').addEventListener('click', function (e) {
    var button = e.target.closest('[data-rating]');
    if (!button) return;
    rating = Number(button.getAttribute('data-rating'));
    showOnly(box, 'phone-survey-next');
  });
  A.byId('phone-survey-send').addEventListener('click', function () { send({ rating: rating }); });
  A.byId('phone-survey-full').addEventListener('click', function () {
    A.request('GET', '/api/v1/survey/elements?lang=' + encodeURIComponent(A.page.lang || 'id')).then(function (res) {
      if (res.status !== 200) return finish(res);
      elements = res.body;
      step = 0;
      question();
    }, function () { finish(null); });
  });
  box.querySelector('.survey-scale').addEventListener('click', function (e) {
    var button = e.target.closest('[data-answer]');
    if (!button) return;
    answers[elements[step].id] = Number(button.getAttribute('data-answer'));
    step += 1;
    if (step < elements.length) question();
    else showOnly(box, 'phone-survey-comment');
  });
  A.byId('phone-survey-submit').addEventListener('click', function () {
    var body = { rating: rating, elements: answers };
    var text = A.byId('phone-survey-text').value.trim();
    if (text) body.comment = text;
    send(body);
  });

  new MutationObserver(maybeAsk).observe(phone, { attributes: true, attributeFilter: ['data-status'] });
  maybeAsk();
})();
