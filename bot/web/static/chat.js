/*
 * cxbot web chat: a small, dependency-free chat widget for the Rasa REST webhook protocol.
 *
 *   POST {server}/webhooks/rest/visitors -> {"sender": id}   (once; the id is kept in localStorage)
 *   POST {server}/webhooks/rest/webhook  {"sender": id, "message": text or button payload,
 *                                         "metadata": {"language": tag}}
 *   -> [{"recipient_id", "text"?, "buttons"?: [{"title", "payload"}], "image"?: absolute URL}, ...]
 *
 * Language: the widget's own words (placeholder, buttons, status and error lines) come from
 *   GET {server}/chat/strings?lang=<navigator.languages>  -> {"locale", "matched", "strings"}
 * (cacheable), English built in for any word missing and for a server that cannot be reached. The
 * language found is sent as metadata.language; when an answer's Content-Language header names
 * another (after /language), the words are fetched again in it. Elements of the page marked
 * data-cxbot-text="key" show strings[key] too; <html data-cxbot-lang> gets the lang attribute.
 *
 * Served by cxbot at GET / (same origin), or embedded on any other site:
 *
 *   <script src="https://bot.example.org/static/chat.js" data-server="https://bot.example.org"
 *           data-framework="cx-maturity" defer></script>
 *
 * Settings, first found wins:
 *   server     data-server on the script tag, else the page's own server
 *   framework  data-framework on the script tag, or ?framework=; the first message is then
 *              "/start <framework>" instead of "/start" (which resumes an open run or offers the menu),
 *              once per browser: a reload sends "/start", so a finished result is shown again
 *   join       data-join, or ?join= (a campaign's join link): the first message is "/join <code>"
 * The chat is built inside the first element with a data-cxbot-chat attribute, or right after the
 * script tag when there is none; chat.css next to chat.js is loaded when the page has not linked it.
 *
 * Safety: no server text is ever parsed as HTML. cxbot's texts are light Markdown, escaped for
 * Markdown (backslashes) and then for HTML (entities), because widgets for this protocol insert
 * them as HTML. This page finds the Markdown subset it understands (**bold**, [title](url), bare
 * http(s) addresses, "- " lists, line and paragraph breaks) in that text, builds those elements
 * itself, and puts every piece of text in through textContent after undoing both escapes once.
 * Links and images must be http(s); links open in a new tab with rel="noopener noreferrer".
 */
(function () {
  'use strict';

  // document.currentScript is only set while this script first runs, so read it now.
  var script = document.currentScript || document.querySelector('script[src*="chat.js"]');
  var WEBHOOK_PATH = 'webhooks/rest/webhook';
  var VISITORS_PATH = 'webhooks/rest/visitors';
  var STRINGS_PATH = 'chat/strings';
  var STRINGS_TIMEOUT_MS = 3000;
  var LANGUAGE_TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;
  // The web_* messages of dialogs/locales/en.yaml (tests/test_chat_words.py keeps them equal): the
  // words when the server has none in the visitor's language, or cannot be reached at all.
  var ENGLISH = {
    "page_title": "cxbot: maturity self-assessment chat",
    "page_heading": "Maturity self-assessment",
    "page_intro": "Answer one question at a time. Your answers are saved as you go, so you can come back later.",
    "noscript": "This chat needs JavaScript switched on.",
    "chat_label": "Chat",
    "log_label": "Conversation",
    "input_label": "Your message",
    "placeholder": "Type your answer",
    "send": "Send",
    "retry": "Try again",
    "typing": "cxbot is typing\u2026",
    "bot_said": "cxbot said:",
    "you_said": "You said:",
    "new_tab": "(opens in a new tab)",
    "chosen": "(chosen)",
    "options": "Options",
    "options_for": "Options: {title}",
    "chart_alt": "Chart of your results",
    "chart_alt_for": "Chart of the scores above. {title}",
    "error_too_many": "That was a lot of messages at once.",
    "error_busy": "The chat server is busy right now.",
    "error_server": "The chat server ran into a problem (error {status}).",
    "error_refused": "The chat server could not take that message (error {status}).",
    "error_timeout": "The chat server took too long to answer.",
    "error_unreadable": "The chat server sent an answer this page could not read.",
    "error_unreachable": "Sorry, the chat server can\u2019t be reached right now. Check your connection and try again.",
    "try_again_in": "Please try again in {seconds} seconds.",
    "try_again_in_one": "Please try again in a second.",
    "try_again_soon": "Please try again in a moment."
  };
  var REQUEST_TIMEOUT_MS = 20000;
  var TYPING_DELAY_MS = 300;
  var FRAMEWORK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
  var JOIN_CODE = /^[A-Za-z2-9]{4}-?[A-Za-z2-9]{4}$/;

  /* ---------- settings ---------- */

  function httpUrl(value, base) {
    if (!value) return null;
    try {
      var url = new URL(value, base);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
    } catch (err) {
      return null;
    }
  }

  function readConfig() {
    var params = new URLSearchParams(window.location.search);
    var data = (script && script.dataset) || {};
    // Only the embedding page chooses the server (data-server): a ?server= in a link would let anyone
    // show another bot's messages under this site's address. The default is the page's own directory,
    // not its origin, so cxbot also works below a path prefix.
    var server = httpUrl(data.server || './', window.location.href);
    if (!server) server = new URL('./', window.location.href);
    if (!/\/$/.test(server.pathname)) server.pathname += '/';
    var framework = data.framework || params.get('framework') || '';
    var join = data.join || params.get('join') || '';
    return {
      webhook: new URL(WEBHOOK_PATH, server).href,
      strings: new URL(STRINGS_PATH, server).href,
      // Only a plain id or code: anything else would let a crafted link send an arbitrary command.
      framework: FRAMEWORK_ID.test(framework) ? framework : '',
      join: JOIN_CODE.test(join) ? join : '',
      visitors: new URL(VISITORS_PATH, server).href,
      storageKey: 'cxbot.visitor:' + server.href,
    };
  }

  /* ---------- words in the visitor's language ---------- */

  /** The browser's languages, most wanted first (only tags shaped like tags, at most 10). */
  function browserLanguages() {
    var listed = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    return Array.prototype.filter.call(listed, function (tag) {
      return typeof tag === 'string' && tag.length <= 35 && LANGUAGE_TAG.test(tag);
    }).slice(0, 10);
  }

  /** {locale, matched, strings} from the server for the languages, or null (then English is used). */
  function fetchWords(url, languages) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, STRINGS_TIMEOUT_MS) : null;
    var address = url + (languages.length ? '?lang=' + encodeURIComponent(languages.join(',')) : '');
    return fetch(address, { mode: 'cors', credentials: 'omit', signal: controller ? controller.signal : undefined })
      .then(checkStatus)
      .then(function (data) {
        var usable = data && typeof data.locale === 'string' && data.strings && typeof data.strings === 'object';
        return usable ? data : null;
      })
      .catch(function () { return null; })
      .finally(function () { if (timer) clearTimeout(timer); });
  }

  /** English, with each word the server gave in place of its English one. */
  function Words(found) {
    this.strings = {};
    var given = found ? found.strings : {};
    for (var key in ENGLISH) {
      this.strings[key] = typeof given[key] === 'string' && given[key] ? given[key] : ENGLISH[key];
    }
    this.locale = found ? found.locale : 'en';
  }

  /** A word with its {placeholders} filled in. */
  Words.prototype.t = function (key, values) {
    return this.strings[key].replace(/\{([a-z_]+)\}/g, function (match, name) {
      return values && values[name] !== undefined ? String(values[name]) : match;
    });
  };

  /* ---------- visitor id ---------- */

  // Whoever knows a visitor id is that visitor, so the server issues it (unguessable) rather than
  // this page making one up; it is kept so that a reload resumes the run.
  var ISSUED_ID = /^v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/;

  function storedVisitor(key) {
    try {
      var id = window.localStorage.getItem(key);
      return id && ISSUED_ID.test(id) ? id : null;
    } catch (err) {
      return null; // storage blocked (privacy settings, sandboxed frame): chat anyway, without resuming
    }
  }

  function keepVisitor(key, id) {
    try {
      window.localStorage.setItem(key, id);
    } catch (err) {
      // not kept: a reload starts afresh
    }
  }

  // A page that names a framework starts it once; on a reload a returning visitor is sent a bare
  // "/start", which carries on with the open run or shows the result again (sending "/start <id>"
  // again would begin a new attempt after a finished one).
  function startedKey(config) {
    return config.storageKey + ':started:' + config.framework;
  }

  function startedHere(config) {
    try {
      return storedVisitor(config.storageKey) !== null && window.localStorage.getItem(startedKey(config)) === '1';
    } catch (err) {
      return false;
    }
  }

  function markStarted(config) {
    try {
      window.localStorage.setItem(startedKey(config), '1');
    } catch (err) {
      // not kept: a reload starts the framework again
    }
  }

  /** A visitor id from the server: POST {server}/webhooks/rest/visitors -> {"sender": id}. */
  function askForVisitor(url, signal) {
    return fetch(url, { method: 'POST', mode: 'cors', credentials: 'omit', signal: signal })
      .then(checkStatus)
      .then(function (data) {
        if (!data || typeof data.sender !== 'string' || !data.sender) {
          throw new SyntaxError('the answer has no visitor id');
        }
        return data.sender;
      });
  }

  /** The response's JSON, or an error carrying its status (and Retry-After, in seconds). */
  function checkStatus(response) {
    if (!response.ok) {
      var error = new Error('HTTP ' + response.status);
      error.status = response.status;
      error.retryAfter = parseInt(response.headers.get('Retry-After') || '', 10) || null;
      throw error;
    }
    return response.json();
  }

  /* ---------- text: entities and the Markdown subset ---------- */

  var NAMED_ENTITIES = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"],
    ['nbsp', '\u00a0']]);

  /** Undo the server's HTML escaping; the result only ever goes into textContent or attributes. */
  function decodeEntities(text) {
    return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, function (match, name) {
      if (name.charAt(0) !== '#') return NAMED_ENTITIES.has(name) ? NAMED_ENTITIES.get(name) : match;
      var hex = name.charAt(1) === 'x' || name.charAt(1) === 'X';
      var code = parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10);
      var valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : match;
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function srOnly(text) {
    return el('span', 'cxbot-sr-only', text);
  }

  function linkTo(url, title, words) {
    var a = el('a', 'cxbot-link', title);
    a.href = url.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.appendChild(srOnly(' ' + words.t('new_tab')));
    return a;
  }

  // cxbot escapes Markdown's special characters in its texts with backslashes (CommonMark's rule:
  // a backslash before ASCII punctuation stands for that character) before escaping them for HTML.
  var ESCAPE = /\\([!-\/:-@\[-`{-~])/g;
  // One of: 1 an escaped character, 2 **bold**, 3-4 [title](url), 5 a bare http(s) address (its
  // trailing punctuation left out). Bold and titles may contain escapes, never an unescaped "**".
  var INLINE = new RegExp([
    ESCAPE.source,
    /\*\*((?:\\.|[^\\*]|\*(?!\*))+?)\*\*/.source,
    /\[((?:\\.|[^\\\]\n])+)\]\(([^()\s]+)\)/.source,
    /(https?:\/\/[^\s<>()"]*[^\s<>()".,;:!?'&])/.source,
  ].join('|'), 'g');
  var TITLE_LINE = /^\*\*((?:\\.|[^\\*]|\*(?!\*))+)\*\*$/;

  /** Markdown source without its escapes and entities: what the words really say. */
  function plainText(source) {
    var out = '';
    var last = 0;
    var match;
    ESCAPE.lastIndex = 0;
    while ((match = ESCAPE.exec(source)) !== null) {
      out += decodeEntities(source.slice(last, match.index)) + match[1];
      last = ESCAPE.lastIndex;
    }
    return out + decodeEntities(source.slice(last));
  }

  /** Append one line of light Markdown to `parent` as text nodes, <strong> and <a> elements. */
  function appendInline(parent, source, base, inBold, words) {
    var pieces = [];
    var match;
    // Collect first: the recursion for bold text reuses the same (global) regular expression.
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(source)) !== null) {
      pieces.push({ start: match.index, end: INLINE.lastIndex, groups: match.slice() });
    }
    var last = 0;
    var text = function (end) {
      if (end > last) parent.appendChild(document.createTextNode(decodeEntities(source.slice(last, end))));
    };
    pieces.forEach(function (piece) {
      var g = piece.groups;
      text(piece.start);
      last = piece.end;
      if (g[1] !== undefined) {
        parent.appendChild(document.createTextNode(g[1]));
      } else if (g[2] !== undefined) {
        var target = inBold ? parent : parent.appendChild(el('strong'));
        appendInline(target, g[2], base, true, words);
      } else {
        var title = plainText(g[3] !== undefined ? g[3] : g[5]);
        var url = httpUrl(plainText(g[4] !== undefined ? g[4] : g[5]), base);
        // Not http(s) (javascript:, data:, ...): show the words, never a live link.
        parent.appendChild(url ? linkTo(url, title, words) : document.createTextNode(title));
      }
    });
    text(source.length);
  }

  /**
   * A message text as block elements: paragraphs split on blank lines, lines kept with <br>, runs of
   * "- " lines as a list, and a line that is bold all through as the message's title.
   */
  function renderText(source, base, words) {
    var fragment = document.createDocumentFragment();
    var paragraph = null;
    var list = null;
    source.replace(/\r\n?/g, '\n').split('\n').forEach(function (line) {
      // Trailing spaces are Markdown's hard line break; every line is kept as a line anyway.
      var trimmed = line.trim();
      if (!trimmed) {
        paragraph = list = null;
        return;
      }
      var item = /^[-*+]\s+(.*)$/.exec(trimmed);
      if (item) {
        paragraph = null;
        if (!list) list = fragment.appendChild(el('ul', 'cxbot-list'));
        appendInline(list.appendChild(el('li')), item[1], base, false, words);
        return;
      }
      list = null;
      var title = TITLE_LINE.exec(trimmed);
      if (title) {
        paragraph = null;
        var heading = fragment.appendChild(el('p', 'cxbot-title'));
        appendInline(heading.appendChild(el('strong')), title[1], base, true, words);
        return;
      }
      if (paragraph) paragraph.appendChild(el('br'));
      else paragraph = fragment.appendChild(el('p'));
      appendInline(paragraph, trimmed, base, false, words);
    });
    return fragment;
  }

  /* ---------- the widget ---------- */

  function ensureStylesheet() {
    if (!script || !script.src || document.querySelector('link[href*="chat.css"]')) return;
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('chat.css', script.src).href;
    document.head.appendChild(link);
  }

  function mountPoint() {
    var root = document.querySelector('[data-cxbot-chat]');
    if (root) return root;
    root = el('section', 'cxbot');
    root.dataset.cxbotLabel = 'chat_label'; // named in the visitor's language by useWords
    if (script && script.parentNode && script.parentNode !== document.head) {
      script.parentNode.insertBefore(root, script.nextSibling);
    } else {
      document.body.appendChild(root);
    }
    return root;
  }

  function Chat(root, config, words, language) {
    this.root = root;
    this.config = config;
    this.words = words;
    this.language = language; // sent as metadata.language: the browser's, as the server matched it
    this.sender = storedVisitor(config.storageKey); // null until the server issues one
    this.busy = false;
    this.lastTitle = ''; // the title of the latest bot message that had one
    this.failed = null; // how to resend the last message that could not be delivered ("Try again")
    this.typingTimer = null;
    this.build();
    this.useWords(words);
  }

  Chat.prototype.build = function () {
    var root = this.root;
    root.classList.add('cxbot');
    root.textContent = '';
    root.dataset.state = 'idle';

    // The log is focusable so that keyboard users can scroll it; aria-busy holds back announcements
    // while a reply is on its way, so that all of its messages are read out together.
    this.log = root.appendChild(el('div', 'cxbot-log'));
    this.log.setAttribute('role', 'log');
    this.log.setAttribute('aria-live', 'polite');
    this.log.setAttribute('aria-relevant', 'additions');
    this.log.tabIndex = 0;

    this.status = root.appendChild(el('div', 'cxbot-status'));
    this.status.setAttribute('role', 'status');

    // role=alert regions announce changed content, so this one stays in the page, emptied when fine.
    this.error = root.appendChild(el('div', 'cxbot-error'));
    this.error.setAttribute('role', 'alert');

    var form = root.appendChild(el('form', 'cxbot-form'));
    form.noValidate = true;
    var inputId = 'cxbot-input-' + Math.random().toString(36).slice(2, 8);
    this.label = form.appendChild(el('label', 'cxbot-sr-only'));
    this.label.htmlFor = inputId;
    this.input = form.appendChild(el('input', 'cxbot-input'));
    this.input.id = inputId;
    this.input.type = 'text';
    this.input.autocomplete = 'off';
    this.input.enterKeyHint = 'send';
    this.input.maxLength = 2000;
    this.sendButton = form.appendChild(el('button', 'cxbot-send'));
    this.sendButton.type = 'submit';

    var chat = this;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      chat.sendTyped();
    });
  };

  /** Say the chat's own words in `words` (at start, and after a reply in another language). */
  Chat.prototype.useWords = function (words) {
    var strings = words.strings;
    this.words = words;
    this.root.lang = words.locale;
    if (this.root.dataset.cxbotLabel) this.root.setAttribute('aria-label', words.t(this.root.dataset.cxbotLabel));
    this.log.setAttribute('aria-label', words.t('log_label'));
    this.label.textContent = words.t('input_label');
    this.input.placeholder = words.t('placeholder');
    this.sendButton.textContent = words.t('send');
    var retry = this.error.querySelector('.cxbot-retry');
    if (retry) retry.textContent = words.t('retry');
    // The page's own elements that ask for a word (cxbot's page marks its heading and intro).
    Array.prototype.forEach.call(document.querySelectorAll('[data-cxbot-text]'), function (node) {
      var key = node.getAttribute('data-cxbot-text');
      if (Object.prototype.hasOwnProperty.call(strings, key)) node.textContent = strings[key];
    });
    var page = document.querySelector('html[data-cxbot-lang]');
    if (page) page.lang = words.locale;
  };

  /** A reply came in `locale` (its Content-Language): fetch the words in it if they differ. */
  Chat.prototype.followLanguage = function (locale) {
    var chat = this;
    if (!locale || locale === this.words.locale || !LANGUAGE_TAG.test(locale)) return;
    fetchWords(this.config.strings, [locale]).then(function (found) {
      if (found && found.locale === locale) chat.useWords(new Words(found));
    });
  };

  Chat.prototype.setBusy = function (busy) {
    var chat = this;
    var status = this.status;
    this.busy = busy;
    this.root.dataset.state = busy ? 'busy' : (this.failed ? 'error' : 'idle');
    this.log.setAttribute('aria-busy', busy ? 'true' : 'false');
    clearTimeout(this.typingTimer);
    status.textContent = '';
    if (!busy) return;
    // Most replies take a few milliseconds: only a slower one shows (and announces) "typing".
    this.typingTimer = setTimeout(function () {
      var typing = status.appendChild(el('span', 'cxbot-typing'));
      var dots = typing.appendChild(el('span', 'cxbot-dots'));
      dots.setAttribute('aria-hidden', 'true');
      for (var i = 0; i < 3; i++) dots.appendChild(el('span'));
      typing.appendChild(document.createTextNode(chat.words.t('typing')));
    }, TYPING_DELAY_MS);
  };

  Chat.prototype.showError = function (text) {
    var chat = this;
    this.error.textContent = '';
    this.error.appendChild(el('span', null, text + ' '));
    var retry = this.error.appendChild(el('button', 'cxbot-retry', this.words.t('retry')));
    retry.type = 'button';
    retry.addEventListener('click', function () { chat.retry(); });
  };

  Chat.prototype.clearError = function () {
    this.error.textContent = '';
  };

  /** Append a bubble; `who` is "bot" or "user". */
  Chat.prototype.bubble = function (who) {
    var message = this.log.appendChild(el('div', 'cxbot-msg cxbot-msg--' + who));
    message.appendChild(srOnly(this.words.t(who === 'bot' ? 'bot_said' : 'you_said')));
    return message;
  };

  Chat.prototype.addUserMessage = function (text) {
    var message = this.bubble('user');
    message.appendChild(el('div', 'cxbot-bubble', text));
    return message;
  };

  Chat.prototype.addBotMessage = function (data) {
    var message = this.bubble('bot');
    var text = typeof data.text === 'string' ? data.text : '';
    var title = null;
    if (text) {
      var body = message.appendChild(el('div', 'cxbot-bubble'));
      body.appendChild(renderText(text, this.config.webhook, this.words));
      title = body.querySelector('.cxbot-title');
      if (title) this.lastTitle = title.textContent;
    }
    var image = typeof data.image === 'string' ? httpUrl(data.image, this.config.webhook) : null;
    if (image) {
      message.classList.add('cxbot-msg--media');
      var figure = message.appendChild(el('figure', 'cxbot-figure'));
      var img = el('img', 'cxbot-image');
      // cxbot sends a result's chart as a message of its own right after the result text, whose
      // title (the stage line) and dimension lines say in words what the chart shows.
      img.alt = typeof data.alt === 'string' && data.alt ? plainText(data.alt)
        : this.lastTitle ? this.words.t('chart_alt_for', { title: this.lastTitle }) : this.words.t('chart_alt');
      img.decoding = 'async';
      img.referrerPolicy = 'no-referrer';
      img.src = image.href;
      var zoom = figure.appendChild(linkTo(image, '', this.words));
      zoom.classList.add('cxbot-image-link');
      zoom.insertBefore(img, zoom.firstChild);
    }
    var buttons = Array.isArray(data.buttons) ? data.buttons.filter(function (b) {
      return b && typeof b.title === 'string' && typeof b.payload === 'string';
    }) : [];
    if (buttons.length) this.addButtons(message, buttons, title ? title.textContent : '');
    return message;
  };

  Chat.prototype.addButtons = function (message, buttons, title) {
    var chat = this;
    var group = message.appendChild(el('div', 'cxbot-buttons'));
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', title ? this.words.t('options_for', { title: title }) : this.words.t('options'));
    buttons.forEach(function (spec) {
      var label = decodeEntities(spec.title);
      var button = group.appendChild(el('button', 'cxbot-option', label));
      button.type = 'button';
      button.addEventListener('click', function () {
        if (chat.busy || button.disabled) return;
        chat.choose(group, button, spec.payload, label);
      });
    });
  };

  function setDisabled(group, disabled) {
    Array.prototype.forEach.call(group.querySelectorAll('button'), function (b) { b.disabled = disabled; });
  }

  /** A button was pressed: its payload answers the message; the message's buttons are then spent. */
  Chat.prototype.choose = function (group, button, payload, label) {
    var chat = this;
    setDisabled(group, true);
    button.classList.add('is-chosen');
    var mark = button.appendChild(srOnly(' ' + this.words.t('chosen')));
    var resend = function () { chat.choose(group, button, payload, label); };
    this.send(payload, label, { fromButton: true, resend: resend }).then(function (ok) {
      if (ok) return;
      // Not delivered: the question is still open, so its buttons work again.
      setDisabled(group, false);
      button.classList.remove('is-chosen');
      mark.remove();
      button.focus();
    });
  };

  Chat.prototype.sendTyped = function () {
    var text = this.input.value.trim();
    if (!text || this.busy) return;
    this.input.value = '';
    this.send(text, text, { typed: true });
  };

  Chat.prototype.retry = function () {
    var failed = this.failed;
    if (!failed || this.busy) return;
    if (failed.options.resend) {
      failed.options.resend();
      return;
    }
    // Typed text went back into the text box when it failed: send it from there, edits and all.
    if (failed.options.typed && this.input.value.trim()) {
      this.sendTyped();
      return;
    }
    this.send(failed.message, failed.shown, failed.options);
  };

  /**
   * Send one message and show the replies. `shown` is what the user's bubble says (a button's title
   * rather than its payload); null sends silently (the /start on load). Resolves to true when the
   * server answered.
   */
  Chat.prototype.send = function (message, shown, options) {
    var chat = this;
    options = options || {};
    if (this.busy) return Promise.resolve(false);
    this.clearError();
    this.failed = null;
    this.setBusy(true);
    var mine = shown === null ? null : this.addUserMessage(shown);
    if (mine) this.scrollTo(mine);
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;

    var signal = controller ? controller.signal : undefined;
    return this.visitor(signal).then(function (sender) {
      return fetch(chat.config.webhook, {
        method: 'POST',
        mode: 'cors',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(chat.body(sender, message)),
        signal: signal,
      });
    }).then(function (response) {
      if (response.ok) chat.followLanguage(response.headers.get('Content-Language'));
      return checkStatus(response);
    }).then(function (replies) {
      if (!Array.isArray(replies)) throw new SyntaxError('the answer is not a list of messages');
      chat.showReplies(replies, options);
      return true;
    }).catch(function (err) {
      // Undo the optimistic bubble and give typed text back, so nothing the user wrote is lost.
      if (mine) mine.remove();
      if (options.typed && !chat.input.value) chat.input.value = message;
      chat.failed = { message: message, shown: shown, options: options };
      chat.showError(describeError(err, chat.words));
      return false;
    }).finally(function () {
      if (timer) clearTimeout(timer);
      chat.setBusy(false);
    });
  };

  /** A webhook request's body: the message, and the visitor's language as a hint. */
  Chat.prototype.body = function (sender, message) {
    var body = { sender: sender, message: message };
    if (this.language) body.metadata = { language: this.language };
    return body;
  };

  /** This browser's visitor id: the kept one, or a new one from the server (kept for next time). */
  Chat.prototype.visitor = function (signal) {
    var chat = this;
    if (this.sender) return Promise.resolve(this.sender);
    return askForVisitor(this.config.visitors, signal).then(function (id) {
      chat.sender = id;
      keepVisitor(chat.config.storageKey, id);
      return id;
    });
  };

  function describeError(err, words) {
    var seconds = err && err.retryAfter;
    var wait = seconds === 1 ? words.t('try_again_in_one')
      : seconds ? words.t('try_again_in', { seconds: seconds }) : words.t('try_again_soon');
    if (err && err.status === 429) return words.t('error_too_many') + ' ' + wait;
    if (err && err.status === 503) return words.t('error_busy') + ' ' + wait;
    if (err && err.status >= 500) return words.t('error_server', { status: err.status }) + ' ' + words.t('try_again_soon');
    if (err && err.status) return words.t('error_refused', { status: err.status });
    if (err && err.name === 'AbortError') return words.t('error_timeout');
    if (err instanceof SyntaxError) return words.t('error_unreadable');
    return words.t('error_unreachable');
  }

  Chat.prototype.showReplies = function (replies, options) {
    var added = [];
    var chat = this;
    replies.forEach(function (reply) {
      if (reply && typeof reply === 'object') added.push(chat.addBotMessage(reply));
    });
    if (!added.length) return;
    this.scrollTo(added[0]);
    // A pressed button is now disabled and has lost focus: carry keyboard users on to the next
    // options, or back to the text box. Typing users keep their focus in the text box.
    if (options.fromButton) {
      var next = null;
      for (var i = added.length - 1; i >= 0 && !next; i--) next = added[i].querySelector('.cxbot-option');
      (next || this.input).focus({ preventScroll: true });
    }
  };

  /** Scroll the log (not the embedding page) so that `message` starts at the top of the view. */
  Chat.prototype.scrollTo = function (message) {
    // The log is position: relative, so offsetTop is measured from its top.
    this.log.scrollTop = message.offsetTop - 8;
  };

  function start() {
    var config = readConfig();
    ensureStylesheet();
    var languages = browserLanguages();
    fetchWords(config.strings, languages).then(function (found) {
      // The hint is the language the server matched, else the browser's first (the server then
      // answers in its default language, and knows what the visitor speaks).
      var language = found && found.matched ? found.locale : languages[0] || '';
      var chat = new Chat(mountPoint(), config, new Words(found), language);
      // "/start" resumes an open run, or offers the assessments; a framework picks one straight
      // away, and a join link joins its campaign (or carries on in it).
      var first = '/start';
      if (config.join) first = '/join ' + config.join;
      else if (config.framework && !startedHere(config)) first = '/start ' + config.framework;
      if (config.framework) markStarted(config);
      chat.send(first, null);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
