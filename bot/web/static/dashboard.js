/*
 * cxbot campaign dashboard: the page at .../dashboard/<token>, for the facilitators who hold that link.
 *
 * It reads the token from its own address and polls <token>/report.json (every 10 seconds, with
 * If-None-Match, so an unchanged report is a bodiless 304) and redraws only when the report changed.
 * The charts (<token>/{profile,levels,trend}.png) carry the report's ETag in their query so that a
 * changed report loads fresh pictures; every chart has the same numbers in a table beside it.
 *
 * Address parameters:
 *   round  the round to show (a round picker appears once a campaign has more than one round);
 *          without it the page follows the campaign's current round
 *   poll   seconds between checks, 1 to 10 (default: the body's data-poll-seconds, else 10)
 *
 * Safety: report texts come from framework files and facilitators, so nothing from the server is
 * ever parsed as HTML: every element is made with createElement and filled with textContent. The
 * page's Content-Security-Policy allows no inline script or style; widths are set through the
 * CSSOM (element.style), which that policy permits.
 */
(function () {
  'use strict';

  var TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
  var DEFAULT_POLL_SECONDS = 10;
  var MIN_POLL_SECONDS = 1;
  var MAX_POLL_SECONDS = 10;
  var REQUEST_TIMEOUT_MS = 15000;
  var PRIORITIES = { quick: 'Quick win', urgent: 'Urgent', build: 'Build up', top: 'Keep it up' };

  /* ---------- small helpers ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function part(name) {
    return document.querySelector('[data-dash="' + name + '"]');
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  function text(value) {
    return typeof value === 'string' ? value : '';
  }

  function isNumber(value) {
    return typeof value === 'number' && isFinite(value);
  }

  /** A score as the chat shows it: one decimal. */
  function score(value) {
    return isNumber(value) ? value.toFixed(1) : '\u2013';
  }

  function count(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function clock(date) {
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  /** Seconds between checks from ?poll= or data-poll-seconds: only small positive values count. */
  function pollSeconds(value) {
    if (!value || !/^[0-9]{1,2}(\.[0-9]{1,3})?$/.test(value)) return null;
    var seconds = parseFloat(value);
    return seconds >= MIN_POLL_SECONDS && seconds <= MAX_POLL_SECONDS ? seconds : null;
  }

  function roundNumber(value) {
    return value && /^[1-9][0-9]{0,4}$/.test(value) ? parseInt(value, 10) : null;
  }

  function readConfig() {
    var path = window.location.pathname;
    var token = path.slice(path.lastIndexOf('/') + 1);
    var params = new URLSearchParams(window.location.search);
    var seconds = pollSeconds(params.get('poll')) || pollSeconds(document.body.dataset.pollSeconds)
      || DEFAULT_POLL_SECONDS;
    return {
      token: TOKEN.test(token) ? token : null,
      // "<token>/" relative to ".../dashboard/<token>": also right below a path prefix.
      base: new URL(token + '/', window.location.href),
      round: roundNumber(params.get('round')),
      pollMs: seconds * 1000,
      pollSeconds: seconds,
    };
  }

  /**
   * A table in a scrolling box, so a wide table never widens the page. The caption is the table's
   * name for assistive technology; the words are also shown above the box (hidden from assistive
   * technology, which has them from the caption), where they wrap instead of scrolling away.
   */
  function table(id, caption, headings) {
    var block = el('div', 'dash-table-block');
    var shown = block.appendChild(el('p', 'dash-caption', caption));
    shown.setAttribute('aria-hidden', 'true');
    var box = block.appendChild(el('div', 'dash-scroll'));
    box.id = id;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-labelledby', id + '-caption');
    var node = box.appendChild(el('table', 'dash-table'));
    var title = node.appendChild(el('caption', 'dash-sr-only', caption));
    title.id = id + '-caption';
    var row = node.appendChild(el('thead')).appendChild(el('tr'));
    headings.forEach(function (heading) {
      var cell = row.appendChild(el('th', heading.className, heading.text));
      cell.scope = 'col';
    });
    block.appendChild(el('p', 'dash-scroll-hint', 'Scroll the table sideways to see every column.')).hidden = true;
    return { box: block, body: node.appendChild(el('tbody')) };
  }

  function headedRow(body, heading) {
    var row = body.appendChild(el('tr'));
    var cell = row.appendChild(el('th', null, heading));
    cell.scope = 'row';
    return row;
  }

  function cell(row, value, className) {
    return row.appendChild(el('td', className || 'dash-num', value));
  }

  function section(id, heading, className) {
    var node = el('section', 'dash-card' + (className ? ' ' + className : ''));
    node.setAttribute('aria-labelledby', id);
    var title = node.appendChild(el('h2', null, heading));
    title.id = id;
    return node;
  }

  function note(parent, words) {
    return parent.appendChild(el('p', 'dash-note', words));
  }

  /* ---------- what the report says, as text ---------- */

  function stageNames(data) {
    var names = {};
    list(data.stages).forEach(function (stage) { names[stage.id] = text(stage.name); });
    return names;
  }

  function dimensionNames(data) {
    var names = {};
    list(data.dimensions).forEach(function (d) { names[d.id] = text(d.name); });
    return names;
  }

  /** The top of the scale (5 on a 1-5 scale): the report's own, else from the answer levels. */
  function scaleTop(data) {
    if (data.scale && isNumber(data.scale.max)) return data.scale.max;
    var top = null;
    list(data.questions).forEach(function (q) {
      list(q.levels).forEach(function (level) {
        if (isNumber(level.level) && (top === null || level.level > top)) top = level.level;
      });
    });
    return top;
  }

  function scoreOf(data, scored) {
    var top = scaleTop(data);
    return score(scored.score) + (top ? ' of ' + top : '');
  }

  function progressText(progress) {
    return count(progress.joined || 0, 'person', 'people') + ' joined, ' + (progress.started || 0)
      + ' started, ' + (progress.completed || 0) + ' finished, ' + (progress.left || 0) + ' left.';
  }

  function neededText(needed) {
    return needed === 1 ? '1 more person needs to finish' : needed + ' more people need to finish';
  }

  /** One sentence that changes whenever a number on the page changes: what is announced. */
  function summaryOf(data) {
    var progress = progressText(data.progress || {});
    if (data.withheld) {
      return progress + ' ' + neededText(data.needed) + ' before results appear.';
    }
    var overall = data.overall || {};
    return progress + ' Group stage: ' + text(overall.stage_name) + ', ' + scoreOf(data, overall)
      + ', from ' + count(data.completed, 'person', 'people') + ' who finished round '
      + data.campaign.round + '.' + (data.pending ? ' ' + data.pending + ' more not in the report yet.' : '');
  }

  function profileAlt(data) {
    var parts = list(data.dimensions).map(function (d) {
      return text(d.name) + ' ' + (isNumber(d.score) ? score(d.score) + ' ' + text(d.stage_name) : 'no answers');
    });
    return 'Group profile: ' + parts.join(', ') + '.';
  }

  function mostCommon(question) {
    var best = 0;
    var labels = [];
    list(question.levels).forEach(function (level) {
      if (level.people > best) {
        best = level.people;
        labels = [text(level.label)];
      } else if (level.people === best && best > 0) {
        labels.push(text(level.label));
      }
    });
    return best ? labels.join(' and ') + ' (' + count(best, 'person', 'people') + ')' : 'no answers';
  }

  function levelsAlt(data) {
    var parts = list(data.questions).map(function (q) { return text(q.short) + ': ' + mostCommon(q); });
    return 'Answers per question, the most common answer to each: ' + parts.join('; ') + '.';
  }

  function trendAlt(data) {
    var rows = trendRows(data).map(function (row) {
      var values = row.values.map(function (v, i) {
        return 'round ' + data.trend[i].round + ' ' + (v === null ? 'withheld' : score(v));
      });
      return row.name + ': ' + values.join(', ');
    });
    return 'Group score by round. ' + rows.join('. ') + '.';
  }

  /** The trend as rows: the overall score, then each dimension, with one value per round. */
  function trendRows(data) {
    var points = list(data.trend);
    var rows = [{
      name: 'Overall',
      values: points.map(function (p) { return p.withheld || !p.overall ? null : p.overall.score; }),
    }];
    list(data.dimensions).forEach(function (d) {
      rows.push({
        name: text(d.name),
        values: points.map(function (p) {
          if (p.withheld) return null;
          var found = list(p.dimensions).filter(function (x) { return x.id === d.id; })[0];
          return found && isNumber(found.score) ? found.score : null;
        }),
      });
    });
    return rows;
  }

  /* ---------- the dashboard ---------- */

  function Dashboard(config) {
    this.config = config;
    this.round = config.round; // the round asked for; null follows the campaign's current round
    this.etag = null;
    this.data = null;
    this.version = '';
    this.summary = null;
    this.updatedAt = null;
    this.timer = null;
    this.controller = null;
    this.sequence = 0;
    this.waiting = false; // a check is due but the page is hidden: check when it is shown again
    this.figures = {};
    this.parts = {};
    ['title', 'framework', 'meta', 'toolbar', 'round-picker', 'round', 'pdf', 'csv-item', 'updated',
      'announce', 'notice', 'loading', 'report'].forEach(function (name) {
      this.parts[name] = part(name);
    }, this);
    this.csvLink = el('a', null, 'Download the answers (CSV)');
    this.csvLink.setAttribute('download', '');
    this.csvNote = el('span', 'dash-unavailable');
    this.bind();
  }

  Dashboard.prototype.bind = function () {
    var dash = this;
    this.parts.round.addEventListener('change', function () { dash.chooseRound(this.value); });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden && dash.waiting) dash.poll();
    });
    var resizing = null;
    window.addEventListener('resize', function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () { dash.markScrollers(); }, 150);
    });
  };

  Dashboard.prototype.url = function (name, round, version) {
    var url = new URL(name, this.config.base);
    if (round) url.searchParams.set('round', String(round));
    if (version) url.searchParams.set('v', version);
    return url.href;
  };

  /* ---------- polling ---------- */

  Dashboard.prototype.poll = function () {
    var dash = this;
    clearTimeout(this.timer);
    this.waiting = false;
    if (this.controller) this.controller.abort();
    var controller = new AbortController();
    var sequence = ++this.sequence;
    var timeout = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    var headers = { Accept: 'application/json' };
    if (this.etag) headers['If-None-Match'] = this.etag;
    this.controller = controller;
    return fetch(this.url('report.json', this.round), {
      headers: headers,
      cache: 'no-store',
      credentials: 'same-origin',
      signal: controller.signal,
    }).then(function (response) {
      if (response.status === 304) return null;
      if (!response.ok) {
        var error = new Error('HTTP ' + response.status);
        error.status = response.status;
        throw error;
      }
      var etag = response.headers.get('ETag');
      return response.json().then(function (data) { return { data: data, etag: etag }; });
    }).then(function (fresh) {
      if (sequence !== dash.sequence) return; // a newer check (another round) has taken over
      if (fresh) {
        try {
          dash.show(fresh.data, fresh.etag);
        } catch (err) {
          dash.etag = null; // ask for the whole report again next time, not a 304
          throw new SyntaxError('the report could not be shown: ' + err);
        }
      }
      dash.fine();
      dash.schedule();
    }).catch(function (err) {
      if (sequence !== dash.sequence) return;
      if (err && err.status === 404) {
        dash.notFound();
        return;
      }
      dash.failed(err);
      dash.schedule();
    }).finally(function () {
      clearTimeout(timeout);
    });
  };

  Dashboard.prototype.schedule = function () {
    var dash = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () {
      // A hidden tab does not poll; it checks as soon as it is shown again.
      if (document.hidden) dash.waiting = true;
      else dash.poll();
    }, this.config.pollMs);
  };

  Dashboard.prototype.chooseRound = function (value) {
    var chosen = roundNumber(value);
    var current = this.data ? this.data.campaign.rounds : null;
    // The current round is followed rather than pinned: when the next one opens, the page moves on.
    this.setRound(chosen === current ? null : chosen);
    this.etag = null;
    this.parts.report.setAttribute('aria-busy', 'true');
    this.poll();
  };

  /** The server showed another round than asked for (?round=9 of 2 rounds): ask for that one. */
  Dashboard.prototype.followRound = function (campaign) {
    this.setRound(campaign.round === campaign.rounds ? null : campaign.round);
  };

  /** Remember the round, in the address too, so that a reload or a shared link shows the same. */
  Dashboard.prototype.setRound = function (round) {
    this.round = round;
    var address = new URL(window.location.href);
    if (round) address.searchParams.set('round', String(round));
    else address.searchParams.delete('round');
    window.history.replaceState(null, '', address.href);
  };

  /** A check answered: clear any error and say when the figures were last known to be current. */
  Dashboard.prototype.fine = function () {
    this.parts.loading.hidden = true;
    this.setNotice(null);
    this.updatedAt = new Date();
    var line = this.parts.updated;
    line.textContent = '';
    line.appendChild(document.createTextNode('Updated '));
    var time = line.appendChild(el('time', null, clock(this.updatedAt)));
    time.dateTime = this.updatedAt.toISOString();
    line.appendChild(document.createTextNode(
      ' \u00b7 checked every ' + count(this.config.pollSeconds, 'second', 'seconds')));
  };

  Dashboard.prototype.failed = function (err) {
    this.parts.loading.hidden = true;
    this.parts.report.removeAttribute('aria-busy');
    var again = 'Trying again every ' + count(this.config.pollSeconds, 'second', 'seconds') + '.';
    var kept = this.data && this.updatedAt ? ' The figures below are from ' + clock(this.updatedAt) + '.' : '';
    var problem;
    if (err && err.status >= 500) problem = 'The server ran into a problem (error ' + err.status + ').';
    else if (err && err.status) problem = 'The server could not send the report (error ' + err.status + ').';
    else if (err && err.name === 'AbortError') problem = 'The server is taking too long to answer.';
    else if (err instanceof SyntaxError) problem = 'The server sent a report this page could not read.';
    else problem = 'The server can\u2019t be reached right now. Check your connection.';
    // The same words on every failed check, so that screen readers hear them once.
    this.setNotice(problem + kept + ' ' + again);
  };

  Dashboard.prototype.notFound = function () {
    clearTimeout(this.timer);
    this.parts.loading.hidden = true;
    this.parts.toolbar.hidden = true;
    this.parts.updated.textContent = '';
    this.parts.report.textContent = '';
    this.parts.report.removeAttribute('aria-busy');
    this.data = null;
    document.title = 'No dashboard here - cxbot';
    this.setNotice(
      'There is no dashboard at this address. Check that you copied the whole link from the message '
        + 'that created the campaign. If the campaign was deleted, its dashboard is gone too.',
      'This dashboard link doesn\u2019t work'
    );
  };

  Dashboard.prototype.setNotice = function (message, heading) {
    var notice = this.parts.notice;
    var words = (heading || '') + (message || '');
    if (notice.dataset.words === words) return; // unchanged: no new announcement
    notice.dataset.words = words;
    notice.textContent = '';
    if (!message) return;
    if (heading) notice.appendChild(el('h2', null, heading));
    notice.appendChild(el('p', null, message));
  };

  Dashboard.prototype.announce = function (message) {
    this.parts.announce.textContent = message;
  };

  /* ---------- drawing ---------- */

  Dashboard.prototype.show = function (data, etag) {
    if (!data || typeof data !== 'object' || !data.campaign) throw new SyntaxError('not a report');
    var before = this.data;
    this.data = data;
    this.etag = etag;
    if (this.round && this.round !== data.campaign.round) this.followRound(data.campaign);
    this.version = (etag || '').replace(/[^A-Za-z0-9]/g, '') || String(Date.now());
    this.drawHeader(data);
    this.drawReport(data);
    var summary = summaryOf(data);
    if (before && before.campaign.round !== data.campaign.round) {
      this.announce('Showing round ' + data.campaign.round + '. ' + summary);
    } else if (before && summary !== this.summary) {
      this.announce('Report updated. ' + summary);
    }
    this.summary = summary;
  };

  Dashboard.prototype.drawHeader = function (data) {
    var campaign = data.campaign;
    var title = text(campaign.title) || 'Campaign dashboard';
    document.title = title + ': campaign dashboard - cxbot';
    this.parts.title.textContent = title;
    this.parts.framework.textContent = data.framework && data.framework.title
      ? ' \u00b7 ' + text(data.framework.title) : '';

    var meta = this.parts.meta;
    meta.textContent = '';
    meta.appendChild(el('span', null, 'Join code '));
    meta.appendChild(el('strong', 'dash-code', campaign.code));
    meta.appendChild(el('span', 'dash-sep', ' \u00b7 '));
    meta.appendChild(el('span', null, 'Round ' + campaign.round + ' of ' + campaign.rounds));
    if (campaign.closed) {
      meta.appendChild(el('span', 'dash-sep', ' \u00b7 '));
      meta.appendChild(el('span', 'dash-tag dash-tag--closed', 'Closed: takes no more answers'));
    }

    this.drawRoundPicker(campaign);
    this.parts.pdf.href = this.url('report.pdf', campaign.round);
    this.drawCsv(data);
    this.parts.toolbar.hidden = false;
  };

  Dashboard.prototype.drawRoundPicker = function (campaign) {
    var select = this.parts.round;
    var rounds = campaign.rounds || 1;
    this.parts['round-picker'].hidden = rounds < 2;
    if (select.options.length !== rounds) {
      select.textContent = '';
      for (var n = 1; n <= rounds; n++) {
        select.appendChild(el('option', null, 'Round ' + n + (n === rounds ? ' (current)' : ''))).value = String(n);
      }
    }
    select.value = String(campaign.round);
  };

  /** The CSV link, changed in place (a redraw must not take keyboard focus away from it). */
  Dashboard.prototype.drawCsv = function (data) {
    var item = this.parts['csv-item'];
    if (data.withheld) {
      this.csvNote.textContent = 'The answers (CSV) can be downloaded once ' + data.min_group
        + ' people have finished.';
      if (this.csvNote.parentNode !== item) item.replaceChildren(this.csvNote);
      return;
    }
    this.csvLink.href = this.url('responses.csv', data.campaign.round);
    if (this.csvLink.parentNode !== item) item.replaceChildren(this.csvLink);
  };

  Dashboard.prototype.drawReport = function (data) {
    var report = this.parts.report;
    var focused = document.activeElement;
    var focusedId = focused && report.contains(focused) ? focused.id : '';
    var parts = [this.progress(data)];
    if (data.withheld) {
      parts.push(this.withheld(data));
    } else {
      parts.push(this.result(data), this.dimensions(data));
      if (list(data.trend).length > 1) parts.push(this.trend(data));
      if (list(data.groups).length) parts.push(this.groups(data));
      parts.push(this.levels(data));
      if (list(data.weakest).length) parts.push(this.weakest(data));
      if (list(data.roadmap).length) parts.push(this.roadmap(data));
    }
    report.replaceChildren.apply(report, parts);
    report.removeAttribute('aria-busy');
    this.markScrollers();
    if (focusedId && document.getElementById(focusedId)) {
      document.getElementById(focusedId).focus({ preventScroll: true });
    }
  };

  /** Only a table box that actually scrolls is a tab stop (keyboard users scroll it with arrows),
   * and only then does the hint under it show. */
  Dashboard.prototype.markScrollers = function () {
    Array.prototype.forEach.call(this.parts.report.querySelectorAll('.dash-scroll'), function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls) box.tabIndex = 0;
      else box.removeAttribute('tabindex');
      var hint = box.parentNode.querySelector('.dash-scroll-hint');
      if (hint) hint.hidden = !scrolls;
    });
  };

  Dashboard.prototype.progress = function (data) {
    var progress = data.progress || {};
    var current = data.campaign.rounds || data.campaign.round;
    var node = section('dash-h-progress', 'Progress');
    var stats = node.appendChild(el('dl', 'dash-stats'));
    [['Joined', progress.joined], ['Started', progress.started], ['Finished', progress.completed],
      ['Left', progress.left]].forEach(function (pair) {
      var item = stats.appendChild(el('div', 'dash-stat'));
      item.appendChild(el('dt', null, pair[0]));
      item.appendChild(el('dd', null, isNumber(pair[1]) ? pair[1] : 0));
    });
    var words = 'Joined counts everyone taking part; started means answering but not finished yet.';
    if (data.campaign.round !== current) {
      words += ' These counts are for round ' + current + ', the current round; in round '
        + data.campaign.round + ', ' + count(data.completed, 'person', 'people') + ' finished.';
    } else if (current > 1) {
      words += ' These counts are for round ' + current + '.';
    }
    note(node, words);
    return node;
  };

  Dashboard.prototype.withheld = function (data) {
    var node = section('dash-h-withheld', 'Results appear once ' + data.min_group + ' people'
      + (data.grouped ? ' of one group' : '') + ' have finished', 'dash-card--withheld');
    var lead = node.appendChild(el('p', 'dash-lead'));
    lead.appendChild(el('strong', null, neededText(data.needed)));
    // how far the group closest to it has come (a campaign with groups publishes each group apart)
    var sofar = Math.max(0, (data.min_group || 0) - (data.needed || 0));
    lead.appendChild(document.createTextNode(' before any results appear (' + sofar + ' of '
      + data.min_group + ' so far' + (data.grouped ? ' in the group closest to it' : '')
      + ').'));
    var track = node.appendChild(el('div', 'dash-bar-track dash-bar-track--wide'));
    track.setAttribute('aria-hidden', 'true');
    var share = data.min_group ? Math.min(1, sofar / data.min_group) : 0;
    track.appendChild(el('span', 'dash-bar-fill')).style.width = (100 * share) + '%';
    node.appendChild(el('p', null, 'Until then no scores or answers are shown, so that nobody\u2019s answers '
      + 'can be told apart. This page updates by itself as people finish.'));
    if (data.pending_note && (data.grouped || data.round_state !== 'open')) {
      note(node, data.pending_note);
    }
    return node;
  };

  Dashboard.prototype.result = function (data) {
    var overall = data.overall || {};
    var node = section('dash-h-result', 'Group result');
    var headline = node.appendChild(el('p', 'dash-headline'));
    headline.appendChild(el('span', 'dash-headline-label', 'Group stage'));
    headline.appendChild(document.createTextNode(' '));
    headline.appendChild(el('strong', 'dash-headline-stage', text(overall.stage_name)));
    headline.appendChild(document.createTextNode(' '));
    headline.appendChild(el('span', 'dash-headline-score', scoreOf(data, overall)));
    node.appendChild(el('p', null, 'From ' + count(data.completed, 'person', 'people') + ' who finished round '
      + data.campaign.round + '. Median ' + score(overall.median) + ', spread ' + score(overall.spread) + '.'));

    node.appendChild(el('h3', null, 'People at each stage'));
    var bars = node.appendChild(el('ul', 'dash-bars'));
    var most = Math.max.apply(null, [1].concat(list(data.stages).map(function (s) { return s.people || 0; })));
    list(data.stages).forEach(function (stage) {
      var item = bars.appendChild(el('li', 'dash-bar'));
      item.appendChild(el('span', 'dash-bar-label', text(stage.name)));
      var track = item.appendChild(el('span', 'dash-bar-track'));
      track.setAttribute('aria-hidden', 'true');
      track.appendChild(el('span', 'dash-bar-fill')).style.width = (100 * (stage.people || 0) / most) + '%';
      item.appendChild(el('span', 'dash-bar-value', count(stage.people || 0, 'person', 'people')));
    });
    if (data.pending_note) note(node, data.pending_note);
    if (data.other_versions) {
      note(node, count(data.other_versions, 'answer set', 'answer sets') + ' given on another version of '
        + 'the assessment are not counted in this round.');
    }
    if (list(data.trend_other_versions).length) {
      note(node, 'Not in the trend: ' + list(data.trend_other_versions).map(function (r) {
        return 'round ' + r;
      }).join(', ') + ', answered on another version of the assessment.');
    }
    return node;
  };

  Dashboard.prototype.dimensions = function (data) {
    var node = section('dash-h-dimensions', 'Scores by dimension');
    var top = scaleTop(data);
    var grid = table('dash-t-dimensions', 'Group score per dimension' + (top ? ', on a scale up to ' + top : ''),
      [{ text: 'Dimension' }, { text: 'Score', className: 'dash-num' }, { text: 'Stage' },
        { text: 'Median', className: 'dash-num' }, { text: 'Spread', className: 'dash-num' }]);
    list(data.dimensions).forEach(function (d) {
      var row = headedRow(grid.body, text(d.name));
      cell(row, score(d.score));
      cell(row, text(d.stage_name) || 'no answers', 'dash-text');
      cell(row, score(d.median));
      cell(row, score(d.spread));
    });
    node.appendChild(grid.box);
    note(node, 'The score is the group\u2019s average, the median the middle answer, and the spread the '
      + 'standard deviation: the larger it is, the more people disagree.');
    node.appendChild(this.figure('profile', profileAlt(data), 'The scores above over the stage bands.'));
    return node;
  };

  Dashboard.prototype.trend = function (data) {
    var node = section('dash-h-trend', 'Trend across rounds');
    var points = list(data.trend);
    var headings = [{ text: 'Score' }].concat(points.map(function (p) {
      return { text: 'Round ' + p.round, className: 'dash-num dash-nowrap' };
    }));
    var grid = table('dash-t-trend', 'Group score in each round, with the change from the round before',
      headings);
    var finished = headedRow(grid.body, 'People who finished');
    points.forEach(function (p) { cell(finished, p.completed); });
    trendRows(data).forEach(function (line) {
      var row = headedRow(grid.body, line.name);
      line.values.forEach(function (value, i) {
        if (value === null) {
          cell(row, 'withheld', 'dash-num dash-muted');
          return;
        }
        var spot = cell(row, score(value));
        var previous = i > 0 ? line.values[i - 1] : null;
        if (previous !== null && i > 0) {
          var change = Math.round((value - previous) * 10) / 10;
          var sign = change > 0 ? '+' : change < 0 ? '\u2212' : '\u00b1';
          spot.appendChild(el('span', 'dash-change', ' (' + sign + Math.abs(change).toFixed(1) + ')'));
        }
      });
    });
    node.appendChild(grid.box);
    if (points.some(function (p) { return p.withheld; })) {
      note(node, 'A round is withheld until ' + data.min_group + ' people have finished it.');
    }
    node.appendChild(this.figure('trend', trendAlt(data), 'The group score per dimension in each round.'));
    return node;
  };

  Dashboard.prototype.groups = function (data) {
    var node = section('dash-h-groups', 'By group');
    var dims = list(data.dimensions);
    var headings = [{ text: 'Group' }, { text: 'Finished', className: 'dash-num' },
      { text: 'Score', className: 'dash-num' }, { text: 'Stage' }].concat(dims.map(function (d) {
      return { text: text(d.name), className: 'dash-num' };
    }));
    var grid = table('dash-t-groups', 'Group score and dimension scores per group', headings);
    var hidden = 0;
    list(data.groups).forEach(function (group) {
      var row = headedRow(grid.body, text(group.name));
      if (group.withheld) {
        hidden++;
        var gap = cell(row, 'Not shown, to protect anonymity', 'dash-text dash-muted');
        gap.colSpan = 3 + dims.length;
        return;
      }
      var overall = group.overall || {};
      cell(row, group.completed);
      cell(row, score(overall.score));
      cell(row, text(overall.stage_name), 'dash-text');
      dims.forEach(function (d) {
        var found = list(group.dimensions).filter(function (x) { return x.id === d.id; })[0];
        cell(row, score(found && found.score));
      });
    });
    node.appendChild(grid.box);
    if (hidden) {
      note(node, 'A group with fewer than ' + data.min_group + ' people who finished is not shown, nor is '
        + 'any group that would let someone work out a hidden one\u2019s answers from the totals.');
    }
    return node;
  };

  Dashboard.prototype.levels = function (data) {
    var node = section('dash-h-levels', 'Answers per question');
    var questions = list(data.questions);
    var first = questions.length ? list(questions[0].levels) : [];
    var skipped = questions.some(function (q) {
      return list(q.levels).some(function (l) { return l.level === null && l.people > 0; });
    });
    var columns = first.filter(function (l) { return l.level !== null || skipped; });
    // Each question may word its levels differently; the header names them only when all agree.
    var shared = columns.map(function (level) {
      return questions.every(function (q) {
        var own = list(q.levels).filter(function (l) { return l.level === level.level; })[0];
        return own && own.label === level.label;
      }) ? level : null;
    });
    var headings = [{ text: 'Question' }].concat(columns.map(function (level, i) {
      var label = level.level === null ? text(level.label) : level.level + (shared[i] ? ' ' + text(level.label) : '');
      return { text: label, className: 'dash-num' };
    }));
    var grid = table('dash-t-levels', 'People who gave each answer, by question', headings);
    questions.forEach(function (q) {
      var row = headedRow(grid.body, text(q.short));
      columns.forEach(function (level, i) {
        var own = list(q.levels).filter(function (l) { return l.level === level.level; })[0];
        var people = own ? own.people : 0;
        cell(row, shared[i] || !own ? people : people + ' (' + text(own.label) + ')');
      });
    });
    node.appendChild(grid.box);
    node.appendChild(this.figure('levels', levelsAlt(data), 'The answers above as bars, one per question.'));
    return node;
  };

  Dashboard.prototype.weakest = function (data) {
    var node = section('dash-h-weakest', 'Weakest areas');
    var dims = dimensionNames(data);
    var items = node.appendChild(el('ol', 'dash-list'));
    list(data.weakest).forEach(function (w) {
      var item = items.appendChild(el('li'));
      item.appendChild(el('strong', null, text(w.name)));
      var where = dims[w.dimension] ? ' (' + dims[w.dimension] + ')' : '';
      item.appendChild(document.createTextNode(where + ': ' + score(w.score) + ', ' + text(w.stage_name)));
    });
    return node;
  };

  Dashboard.prototype.roadmap = function (data) {
    var node = section('dash-h-roadmap', 'Road map: quick wins first');
    var stages = stageNames(data);
    var items = node.appendChild(el('ol', 'dash-roadmap'));
    list(data.roadmap).forEach(function (item) {
      var entry = items.appendChild(el('li', 'dash-roadmap-item'));
      var head = entry.appendChild(el('p', 'dash-roadmap-head'));
      var priority = text(item.label) || PRIORITIES[item.priority] || text(item.priority);
      head.appendChild(el('span', 'dash-tag dash-tag--' + (PRIORITIES[item.priority] ? item.priority : 'other'),
        priority));
      head.appendChild(document.createTextNode(' '));
      head.appendChild(el('strong', null, text(item.name)));
      var from = stages[item.stage] || text(item.stage);
      var step = item.next_stage ? from + ' to ' + (stages[item.next_stage] || text(item.next_stage)) : from;
      head.appendChild(el('span', 'dash-roadmap-step', ' ' + step + ', now ' + score(item.score)));
      entry.appendChild(el('p', 'dash-roadmap-text', text(item.text)));
    });
    return node;
  };

  /**
   * A chart with its caption. Its <img> lives as long as the page: a redraw moves it and only changes
   * its address when the report changed, so the old picture stays until the new one has loaded.
   */
  Dashboard.prototype.figure = function (name, alt, caption) {
    var kept = this.figures[name];
    if (!kept) {
      kept = this.figures[name] = { figure: el('figure', 'dash-figure'), img: el('img', 'dash-chart') };
      var img = kept.img;
      img.width = 800;
      img.height = 450;
      img.decoding = 'async';
      kept.fallback = el('p', 'dash-chart-missing',
        'This chart could not be loaded; the table above has the same figures.');
      kept.fallback.hidden = true;
      kept.caption = el('figcaption');
      img.addEventListener('error', function () {
        img.hidden = true;
        kept.fallback.hidden = false;
      });
      img.addEventListener('load', function () {
        img.hidden = false;
        kept.fallback.hidden = true;
      });
      kept.figure.append(img, kept.fallback, kept.caption);
    }
    kept.img.alt = alt;
    kept.caption.textContent = caption;
    var src = this.url(name + '.png', this.data.campaign.round, this.version);
    if (kept.img.getAttribute('src') !== src) kept.img.src = src;
    return kept.figure;
  };

  function start() {
    var config = readConfig();
    var dash = new Dashboard(config);
    if (!config.token) {
      dash.notFound();
      return;
    }
    dash.poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
