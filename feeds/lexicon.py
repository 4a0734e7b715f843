"""Words the extractor reads listings by, in English, Spanish, French, Portuguese, German, Italian.

Kept apart from the rules so that a new phrasing is usually a one-line change here. Every
pattern fragment is written for case-insensitive matching on text with its accents intact.
"""

from __future__ import annotations

MONTHS: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "enero", "ene", "janvier", "janv", "janeiro", "januar", "jänner",
        "gennaio", "gen"),
    2: ("february", "feb", "febrero", "février", "fevrier", "févr", "fevr", "fév", "fevereiro",
        "fev", "februar", "febbraio"),
    3: ("march", "mar", "marzo", "mars", "março", "marco", "märz", "maerz", "mär"),
    4: ("april", "apr", "abril", "abr", "avril", "avr", "aprile"),
    5: ("may", "mayo", "mai", "maio", "maggio", "mag"),
    6: ("june", "jun", "junio", "juin", "junho", "juni", "giugno", "giu"),
    7: ("july", "jul", "julio", "juillet", "juil", "julho", "juli", "luglio", "lug"),
    8: ("august", "aug", "agosto", "ago", "août", "aout"),
    9: ("september", "sep", "sept", "septiembre", "setiembre", "septembre", "setembro",
        "settembre", "set"),
    10: ("october", "oct", "octubre", "octobre", "outubro", "out", "oktober", "okt", "ottobre",
         "ott"),
    11: ("november", "nov", "noviembre", "novembre", "novembro"),
    12: ("december", "dec", "diciembre", "dic", "décembre", "decembre", "déc", "dezembro", "dez",
         "dezember", "dicembre"),
}
"""Month names and abbreviations, lower-case, by month number."""

RISKY_MONTHS = frozenset({"set", "out", "ago", "gen", "mag", "mar", "may", "march"})
"""Month words that are also common words ("set", "out", "ago", "may"): accepted only in a
date shape that cannot be read otherwise (a day number right before, or a year after)."""

MONTH_LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("january", "jan", "february", "feb", "march", "mar", "april", "apr", "may", "june",
           "jun", "july", "jul", "august", "aug", "september", "sep", "sept", "october", "oct",
           "november", "nov", "december", "dec"),
    "es": ("enero", "ene", "febrero", "marzo", "abril", "abr", "mayo", "junio", "julio", "agosto",
           "ago", "septiembre", "setiembre", "octubre", "noviembre", "diciembre", "dic"),
    "fr": ("janvier", "janv", "février", "fevrier", "févr", "fevr", "fév", "mars", "avril", "avr",
           "mai", "juin", "juillet", "juil", "août", "aout", "septembre", "octobre", "novembre",
           "décembre", "decembre", "déc"),
    "pt": ("janeiro", "fevereiro", "fev", "março", "marco", "abril", "maio", "junho", "julho",
           "agosto", "setembro", "set", "outubro", "out", "novembro", "dezembro", "dez"),
    "de": ("januar", "jänner", "februar", "märz", "maerz", "mär", "april", "mai", "juni", "juli",
           "august", "september", "oktober", "okt", "november", "dezember", "dez"),
    "it": ("gennaio", "gen", "febbraio", "marzo", "aprile", "maggio", "mag", "giugno", "giu",
           "luglio", "lug", "agosto", "settembre", "set", "ottobre", "ott", "novembre",
           "dicembre", "dic"),
}
"""Which language each month word belongs to, so that dateparser is asked in that language."""

WEEKDAYS: dict[int, tuple[str, ...]] = {
    0: ("monday", "mon", "lunes", "lundi", "segunda-feira", "segunda", "montag", "lunedì",
        "lunedi"),
    1: ("tuesday", "tue", "tues", "martes", "mardi", "terça-feira", "terça", "terca", "dienstag",
        "martedì", "martedi"),
    2: ("wednesday", "wed", "miércoles", "miercoles", "mercredi", "quarta-feira", "quarta",
        "mittwoch", "mercoledì", "mercoledi"),
    3: ("thursday", "thu", "thur", "thurs", "jueves", "jeudi", "quinta-feira", "quinta",
        "donnerstag", "giovedì", "giovedi"),
    4: ("friday", "fri", "viernes", "vendredi", "sexta-feira", "sexta", "freitag", "venerdì",
        "venerdi"),
    5: ("saturday", "sat", "sábado", "sabado", "samedi", "samstag", "sabato"),
    6: ("sunday", "sun", "domingo", "dimanche", "sonntag", "domenica"),
}
"""Weekday names, lower-case, Monday = 0 as in `date.weekday()`."""

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty-five": 45, "sixty": 60, "ninety": 90,
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "diez": 10, "doce": 12, "catorce": 14, "quince": 15, "veinte": 20,
    "treinta": 30, "sesenta": 60, "noventa": 90,
    "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "dix": 10,
    "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "soixante": 60, "quatre-vingt-dix": 90,
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3, "quatro": 4, "oito": 8, "dez": 10,
    "doze": 12, "catorze": 14, "vinte": 20, "trinta": 30, "sessenta": 60,
}
"""Spelled-out counts used in relative deadlines ("within two weeks of publication")."""

# --- Deadline cues ------------------------------------------------------------------------

DEADLINE_NOUNS = (
    # English
    r"deadlines?", r"closing[- ]dates?", r"close date", r"due dates?", r"last dates?",
    r"last days?", r"final dates?", r"cut-?off(?: dates?)?", r"expiry date", r"end date",
    r"no later than", r"not later than", r"at the latest", r"latest by",
    r"(?:have|has) (?:time )?until", r"(?:is|are|now|be) due(?: on| by)?", r"\bdue(?: on| by)",
    r"due(?=\s*[:\-–])",
    # Spanish
    r"fechas? l[ií]mites?", r"fecha de cierre", r"fecha tope", r"plazos?(?: de (?:presentaci[oó]n|"
    r"inscripci[oó]n|postulaci[oó]n|solicitud|entrega|recepci[oó]n)(?: de [a-záéíóúñ]+)?)?",
    r"a m[aá]s tardar", r"[uú]ltimo d[ií]a", r"cierre de (?:la )?convocatoria", r"vencimiento",
    # French
    r"dates? limites?", r"date butoir", r"date de cl[oô]ture", r"cl[oô]ture des (?:inscriptions|"
    r"candidatures|candidats|soumissions|propositions)", r"[ée]ch[ée]ance", r"au plus tard",
    r"dernier d[ée]lai", r"d[ée]lai(?: de (?:candidature|soumission|d[ée]p[oô]t|r[ée]ception))?",
    # Portuguese
    r"prazos?(?: (?:final|limite|de (?:inscri[çc][ãa]o|candidatura|submiss[ãa]o|entrega)))?",
    r"data[- ]limite", r"data final", r"encerramento(?: das inscri[çc][õo]es)?",
    # German
    r"bewerbungsende", r"bewerbungsfrist", r"bewerbungsschluss", r"einsendeschluss",
    r"anmeldeschluss", r"anmeldefrist", r"einreichungsfrist", r"abgabetermin", r"stichtag",
    r"fristende", r"frist", r"sp[äa]testens",
    # Italian
    r"scadenza", r"termine(?: ultimo)?(?: per (?:la presentazione|l'invio|presentare))?",
    r"non oltre", r"entro e non oltre",
)
"""Phrases that, tied to a date, make it a deadline on their own."""

WEAK_PREPOSITIONS = (
    r"by", r"before", r"until", r"till", r"til", r"up to", r"up until", r"through", r"within",
    r"on or before", r"prior to", r"ending", r"closing",
    r"hasta(?: el)?", r"antes del?", r"jusqu'(?:au|à|a)", r"jusqu’(?:au|à|a)", r"avant (?:le )?",
    r"até(?: (?:o|ao|à|a)(?: dia)?| dia)?", r"antes de", r"bis(?: zum| spätestens)?",
    r"entro(?: il| l'| l’)?", r"fino (?:al|alle|a|all'|all’)",
)
"""Prepositions that close a window; a deadline only when the clause says what to do by then."""

CLOSING_VERBS = (
    r"clos(?:e|es|ing)(?: on)?", r"ends?(?: on)?", r"expires?(?: on)?",
    r"cierran?(?: el)?", r"finaliza(?:n)?(?: el)?", r"vence(?:n)?(?: el)?",
    r"(?:se )?termine(?:nt)?(?: le)?", r"(?:se )?cl[oô]turen?t?(?: le)?", r"fermeront(?: le)?",
    r"encerra(?:m)?(?: (?:em|no dia|dia))?", r"terminam?(?: (?:em|no dia))?",
    r"endet(?: am)?", r"schließt(?: am)?", r"chiud(?:e|ono)(?: il)?", r"scad(?:e|ono)(?: il)?",
)
"""Verbs that, after a call or application noun, name its closing date."""

EXTENSION = (
    r"extended", r"extension", r"postponed", r"pushed back", r"new deadline", r"now due",
    r"prorrogad[oa]s?", r"ampliad[oa]s?", r"extendid[oa]s?", r"prolongad[oa]s?",
    r"prolong[ée]e?s?", r"report[ée]e?s?", r"repouss[ée]e?s?",
    r"prorrogad[oa]s?", r"estendid[oa]s?", r"adiad[oa]s?", r"se ampl[ií]a(?:n)?",
    r"se extiende(?:n)?", r"se prorroga(?:n)?", r"amplia(?:do|da)", r"prorrogação",
    r"prorroga", r"prórroga", r"prolongation", r"prorogation", r"proroga",
    r"verlängert", r"verschoben", r"prorogat[oaie]", r"estes[oaie]", r"posticipat[oaie]",
)
"""Words that announce a new date replacing an earlier one."""

SUPERSEDED = (
    r"extended from", r"originally", r"original(?: deadline| date)?", r"previously",
    r"previous(?: deadline| date)?", r"initially", r"instead of", r"rather than",
    r"en lugar del?", r"inicialmente", r"au lieu du?", r"initialement", r"em vez de",
    r"anstatt", r"statt", r"invece del?", r"inizialmente", r"anziché",
)
"""Words before a date that the text itself says no longer holds."""

PAST = (
    r"was", r"were", r"had been", r"closed", r"[ée]taient", r"eran", r"estaban", r"estavam",
    r"eram", r"waren", r"erano", r"cerraron", r"finalizaron", r"encerraram", r"terminaram",
    r"ended", r"expired", r"fue", r"era", r"venci[oó]", r"termin[oó]", r"cerr[oó]",
    r"finaliz[oó]", r"[ée]tait", r"a [ée]t[ée]", r"fut", r"s'est termin[ée]e?", r"a pris fin",
    r"foi", r"terminou", r"encerrou", r"venceu", r"war", r"endete", r"lief", r"è scadut[oa]",
    r"è terminat[oa]", r"si è chius[oa]", r"scadeva",
    r"(?:we|they|i) (?:have |had )?(?:received|got|collected|accepted|selected|reviewed|had)",
    r"last year", r"previous (?:year|edition|call)", r"el año pasado", r"l'année dernière",
    r"l’année dernière", r"o ano passado", r"letztes jahr", r"l'anno scorso",
    r"recibimos", r"se recibieron", r"nous avons reçu", r"recebemos", r"foram recebid[oa]s",
)
"""Past-tense words between a deadline word and its date: the deadline is history."""

ACTIONS = (
    # English
    r"appl(?:y|ying|ied|ications?|icants?)", r"regist(?:er|ers|ering|ration|rations)",
    r"sign(?:ing)?[- ]?ups?", r"enrol(?:l|ls|ment|ling)?", r"submi(?:t|ts|tting|ssions?|tted)",
    r"send(?:ing)?", r"sent", r"nominat(?:e|ions?|ing)", r"comments?", r"commenting",
    r"feedback", r"respond", r"responses?", r"reply", r"replies", r"request(?:s|ed|ing)?",
    r"proposals?", r"propose", r"entries", r"complete", r"completing", r"book(?:ing)?",
    r"early[- ]bird", r"accepted", r"receiv(?:e|ed)", r"reach us", r"tickets?", r"rsvp",
    r"expressions? of interest", r"candidates? (?:can|may|must|should)",
    # Spanish
    r"postula(?:r|rse|ciones?|ción|ntes?)", r"solicit(?:ar|ud|udes|antes)",
    r"inscri(?:bir(?:se)?|pci[oó]n|pciones|tos?)", r"envi(?:ar|o|ío|en)", r"present(?:ar|en|ación)",
    r"propuestas?", r"candidaturas?", r"participar", r"reg[ií]str(?:o|ar(?:se)?)",
    # French
    r"candidat(?:ures?|er)", r"postuler", r"inscri(?:re|ptions?|vez|vent)", r"soumettre",
    r"soumissions?", r"envoy(?:er|ez)", r"d[ée]p[oô]s(?:er|ez|e)", r"propositions?",
    r"r[ée]server", r"r[ée]servations?", r"dossiers?",
    # Portuguese
    r"candidat(?:ar|ar-se|uras?)", r"inscri(?:ções|çao|ção|ções|tos?)",
    r"inscrev(?:er|er-se|a|am|e)",
    r"inscrevam-se", r"submeter", r"submiss(?:ão|ões)", r"enviar", r"propostas?", r"pedidos?",
    r"solicita(?:r|ções|ção)",
    # German
    r"bewerb(?:en|ung|ungen|ungsunterlagen)", r"einreich(?:en|ung)", r"anmeld(?:en|ung)",
    r"senden", r"zusenden", r"übermitteln",
    # Italian
    r"iscri(?:vers[ei]|zion[ei])", r"candidatur[ae]", r"domand[ae]",
    r"present(?:are|at[ei]|azione)", r"invi(?:are|ate)", r"ricors[oi]",
    r"complet(?:are|arlo|arla)", r"prenota(?:re|zion[ei])",
)
"""What a reader must do by a deadline: apply, register, submit, comment …"""

IMPERATIVE_ACTIONS = (
    r"appl(?:y|ying|ications?)", r"regist(?:er|ering|ration)", r"sign(?:ing)?[- ]?up",
    r"enrol(?:l)?", r"submi(?:t|tting|ssions?)", r"send", r"nominat(?:e|ions?)",
    r"comment(?:s|ing)?", r"feedback", r"respond", r"reply", r"request", r"propos(?:e|als?)",
    r"book", r"complete", r"postular(?:se)?", r"inscrib(?:ir(?:se)?|an)", r"inscripci[oó]n(?:es)?",
    r"enviar", r"presentar", r"solicitar", r"solicitudes", r"candidater", r"postuler",
    r"s'inscrire", r"inscriptions?", r"candidatures?", r"soumettre", r"envoyer",
    r"candidatar(?:-se)?", r"inscrev(?:er|er-se|a|am)", r"inscri[çc](?:ão|ões)", r"submeter",
    r"bewerben", r"bewerbungen", r"einreichen", r"anmelden", r"senden", r"iscriver(?:si|e)",
    r"iscrizion[ei]", r"candidar(?:si|e)", r"presentare", r"inviare", r"completar(?:e|lo|la)",
)
"""What a reader is told to do, when the instruction comes after the date ("Until 3 May,
apply online"); narrower than ACTIONS so that "you will receive an email" does not count."""

CALLS = (
    r"consultations?", r"surveys?", r"questionnaires?", r"calls?(?: for [a-z]+)?", r"open call",
    r"convocatorias?", r"consultas?", r"encuestas?", r"appels?(?: (?:à|a) [a-z]+)?",
    r"chamadas?", r"editais?", r"edital", r"ausschreibung(?:en)?", r"bandi", r"bando",
    r"consultazion[ei]", r"concours", r"concurso", r"competition", r"wettbewerb",
)
"""Calls the public answers: "the call closes on …" names its deadline."""

OPEN_WORDS = (
    r"(?:is|are|will be|remain|remains|stays?) open", r"window", r"hackathon",
    r"abiert[oa]s?", r"ouverte?s?", r"abert[oa]s?", r"geöffnet", r"apert[oaie]",
)
"""Words of a period being open: where it ends is likely, not certainly, a deadline."""

EVENT_VERBS = (
    r"held", r"hold", r"holding", r"takes? place", r"taking place", r"will take place",
    r"scheduled(?: for| on)?", r"will be on", r"happen(?:s|ing)?", r"celebrat(?:ed|ion)",
    r"will run", r"runs", r"winners? will be", r"will be selected", r"planned(?: for)?",
    r"to be held", r"organi[sz]ed(?: on| for)?",
    r"se (?:llevar[aá]|celebrar[aá]|realizar[aá])(?: a cabo)?", r"tendr[aá] lugar",
    r"se celebra", r"aura lieu", r"se tiendra", r"se d[ée]roulera", r"acontecer[aá]",
    r"ser[aá] realizad[oa]", r"ter[aá] lugar", r"findet", r"stattfinden", r"statt",
    r"si terr(?:à|a|anno)", r"si svolger(?:à|a|anno)", r"programmat[oaie]", r"in data",
)
"""Verbs that, nearest before a date, make it the date of an event (unless what is "held"
is the application process itself)."""

EVENT_NOUN_CUES = (
    r"conference", r"webinars?", r"meetings?", r"workshops?", r"seminars?", r"sessions?",
    r"exams?", r"examinations?", r"tests?", r"interviews?", r"ceremony", r"event",
    r"meetup", r"kick-?off", r"lectures?", r"talks?", r"ex[aá]men(?:es)?", r"provas?",
    r"prüfung(?:en)?", r"bewerbungsgespräche?", r"vorstellungsgespräche?", r"esami?",
    r"sessione", r"colloqui", r"entrevistas?", r"entretiens?", r"conf[ée]rence",
    r"s[ée]minaire", r"atelier", r"taller", r"oficina", r"journ[ée]e",
    r"giornata",
)
"""Nouns of an event that name the date right after them ("exam on 5 May", "Webinar 1 May")."""

START_CUES = (
    r"start(?:s|ing)?(?: on| from)?", r"begin(?:s|ning)?(?: on)?", r"commenc(?:e|es|ing)",
    r"open(?:s|ing)? on", r"opens", r"launch(?:es|ed)?(?: on)?", r"effective", r"valid from",
    r"comenzar[aá]", r"inicia(?:r[aá])?", r"d[ée]but(?:e|era)?", r"ouverture", r"com(?:eça|eçará)",
    r"in[ií]cio", r"beginn(?:t)?", r"besetzungsstart", r"eintritt", r"dienstbeginn",
    r"decorrere da(?:l)?", r"inizi(?:o|a)", r"resume", r"reopen", r"riaprir[aà]", r"riprenderanno",
)
"""Words that make a date the start of something."""

TIGHT_CUES = (
    r"from", r"since", r"as of", r"as on", r"a partir del?", r"desde(?: el)?",
    r"à partir du?", r"a partir de", r"ab(?: dem)?", r"a partire da(?:l|lla)?", r"dal",
    r"dall'", r"dall’", r"dès le", r"depuis le", r"seit",
)
"""Start words that count only right before the date ("from 3 May", not "from X … 3 May")."""

PUBLICATION_CUES = (
    r"published", r"posted", r"updated", r"announced", r"released", r"issued", r"dated",
    r"results?", r"notifi(?:ed|cation)s?", r"winners?", r"selected", r"shortlisted",
    r"publicad[oa]s?", r"publi[ée]e?s?", r"pubblicat[oaie]", r"comunicazione del",
    r"decreto[^.]{0,40}? del", r"circolare del", r"n\. ?\d+ del", r"reminder", r"remind",
    r"confirm(?:ation|ing)?", r"you(?:'ll| will) receive", r"will be (?:emailed|sent|informed)",
    r"outcome", r"decisions?", r"announcement",
)
"""Words that make a date a publication, a result or a notice to applicants."""

CLOSURE_CUES = (
    r"closed", r"closure", r"will be close", r"chius[oaie]", r"chiusura", r"cerrad[oa]s?",
    r"ferm[ée]e?s?", r"fechad[oa]s?", r"geschlossen", r"suspended", r"sospes[oaie]",
    r"shut", r"holidays?", r"vacanz[ae]", r"vacaciones", r"vacances", r"férias", r"ferien",
)
"""Words of an office closing or a service pausing: its dates are never a deadline."""

PERIOD_CUES = (
    r"work(?:s|ing)?", r"lasts?", r"continues?", r"stays?", r"remains?", r"live",
    r"years old", r"aged?", r"born", r"tenable", r"engagement", r"contracts?", r"period of",
    r"available", r"disponible", r"disponível", r"disponibile", r"verfügbar", r"valid",
    r"refund", r"cancell?ations?", r"reembolso", r"remboursement", r"hotel", r"room blocks?",
    r"obtained", r"graduated", r"earned", r"degree", r"diploma", r"titulad[oa]s?",
    r"obtenid[oa]s?", r"obtenue?s?", r"obtid[oa]s?", r"conseguit[oa]",
)
"""Words that make a date the edge of a period that is not a call (closure, age, refund)."""

EVENT_NOUNS = (
    r"conference", r"summit", r"forum", r"webinar", r"workshop", r"training", r"seminar",
    r"symposium", r"meeting", r"meetup", r"hackathon", r"datathon", r"festival", r"congress",
    r"convention", r"school", r"camp", r"bootcamp", r"course", r"retreat", r"exhibition",
    r"fair", r"assembly", r"gathering", r"event", r"talk", r"lecture", r"panel", r"roundtable",
    r"congreso", r"conferencia", r"cumbre", r"foro", r"taller", r"jornadas?", r"seminario",
    r"encuentro", r"capacitaci[oó]n", r"curso", r"evento", r"conf[ée]rence", r"sommet",
    r"atelier", r"formation", r"s[ée]minaire", r"colloque", r"rencontre", r"journ[ée]es?",
    r"[ée]v[ée]nement", r"salon", r"congresso", r"confer[êe]ncia", r"cúpula", r"f[óo]rum",
    r"oficina", r"semin[áa]rio", r"encontro", r"treinamento", r"konferenz", r"tagung",
    r"kongress", r"veranstaltung", r"convegno", r"incontro", r"giornat[ae]", r"evento",
)
"""Nouns that make a listing (or the date next to them) an event."""

# --- Kinds ----------------------------------------------------------------------------------

DEADLINE_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "travel_support": (
        r"travel (?:grants?|support|bursar(?:y|ies)|funds?|funding|scholarships?|awards?|"
        r"stipends?|subsid(?:y|ies))", r"bursar(?:y|ies)", r"fee waivers?",
        r"financial (?:support|assistance|aid)", r"mobility(?: grants?| stays?| scholarships?)?",
        r"becas? de viaje", r"ayudas? de (?:viaje|movilidad)", r"movilidad",
        r"bourses? de (?:voyage|mobilit[ée])", r"aides? (?:à|a) la mobilit[ée]",
        r"aux[ií]lios?(?: de viagem)?", r"apoio (?:financeiro|de viagem)", r"mobilidade",
        r"reisekosten(?:zuschuss)?", r"reisestipendi(?:um|en)", r"rimborso spese",
        r"mobilità", r"erasmus",
    ),
    "abstract": (
        r"abstracts?", r"papers?", r"proposals?", r"cfp", r"posters?", r"session",
        r"talks?", r"contributions?", r"manuscripts?", r"chapters?", r"propuestas?",
        r"res[uú]menes", r"ponencias?", r"comunicaciones", r"r[ée]sum[ée]s",
        r"propositions?", r"communications?", r"resumos?", r"propostas?", r"artigos?",
        r"beitr[äa]ge", r"einreichung(?:en)?", r"contribut[io]", r"relazion[ei]",
    ),
    "registration": (
        r"regist(?:er|ers|ering|ration|rations)", r"sign(?:ing)?[- ]?ups?",
        r"enrol(?:l|ls|ment)?", r"early[- ]?bird", r"inscri\w*", r"anmeld\w*", r"iscri\w*",
        r"tickets?", r"rsvp", r"booking", r"reserv\w*", r"prenotazion[ei]",
        r"attend(?:ance|ees?)?",
    ),
    "other": (
        r"comments?", r"commenting", r"feedback", r"respon(?:d|ses?)", r"repl(?:y|ies)",
        r"reviews?", r"suggestions?", r"nominat\w*", r"payments?", r"pay", r"fees?",
        r"ricors[oi]", r"instalments?", r"rata", r"surveys?", r"questionnaires?",
        r"consultations?", r"complet\w*", r"comentarios?", r"commentaires?", r"coment[aá]rios?",
        r"visa", r"reports?", r"informes?", r"rapports?", r"relat[óo]rios?",
    ),
    "application": (
        r"appl(?:y|ying|ications?|icants?)", r"candida\w*", r"postula\w*", r"solicit\w*",
        r"bewerb\w*", r"domand[ae]", r"vacanc(?:y|ies)", r"positions?", r"jobs?",
        r"fellowships?", r"scholarships?", r"grants?", r"awards?", r"prizes?", r"becas?",
        r"bourses?", r"bolsas?", r"borse?", r"requests?",
    ),
    "submission": (
        r"submi(?:t|ts|ssions?|tting|tted)", r"entries", r"envío", r"envoi", r"envio",
        r"einsendung", r"invio",
    ),
}
"""Words that say what a deadline closes; "submission" alone takes the listing's kind."""

OPPORTUNITY_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "travel_grant": (
        r"travel (?:grants?|bursar(?:y|ies)|support|scholarships?|awards?|funds?|fellowships?)",
        r"fellows program", r"financial support to attend", r"becas? de viaje",
        r"ayudas? de viaje", r"bourses? de voyage", r"bolsas? de viagem",
        r"aux[ií]lio(?:s)? viagem", r"reisestipendi(?:um|en)", r"reisekostenzuschuss",
        r"mobility (?:grants?|stays?|scholarships?)", r"erasmus\+?(?: \w+)? mobility",
    ),
    "fellowship": (
        r"fellowships?", r"scholarships?", r"residenc(?:y|ies)", r"becas?", r"bourses?",
        r"bolsas?(?: de estudo)?", r"stipendi(?:um|en)", r"borse? di studio", r"doctoral",
        r"phd", r"doctorado", r"doctorat", r"doutorado", r"dottorato", r"postdoc\w*",
    ),
    "award": (
        r"awards?", r"prizes?", r"premios?", r"prix", r"pr[êé]mios?", r"preis(?:e)?",
        r"premi(?:o)?", r"competitions?", r"concurso", r"concours", r"wettbewerb",
    ),
    "grant": (
        r"grants?", r"funding(?: call| opportunit(?:y|ies))?", r"call for (?:project )?funding",
        r"subvenci(?:ón|ones)", r"financiaci[oó]n", r"financiamiento", r"subventions?",
        r"financement", r"financiamento", r"fomento", r"f[öo]rder\w*", r"finanziament[oi]",
        r"contribut[oi] per", r"funds?",
    ),
    "call": (
        r"call for (?:papers|abstracts|submissions|proposals|contributions|participants|"
        r"sessions?|presentations|posters|chapters|articles)", r"cfp", r"c4p",
        r"submission deadline", r"session proposals?", r"convocatoria de (?:ponencias|"
        r"propuestas|comunicaciones|art[ií]culos)", r"llamado a", r"appel (?:à|a) "
        r"(?:communications|contributions|propositions|articles|textes)",
        r"chamada (?:de|para) (?:trabalhos|artigos|propostas|resumos)", r"call for",
        r"proposals?", r"abstracts?", r"consultations?", r"rfp", r"request for proposals?",
        r"request for comments?", r"bando", r"convocatoria", r"appel", r"chamada",
    ),
    "job": (
        r"jobs?", r"vacanc(?:y|ies)", r"hiring", r"recruit\w*", r"consultan(?:t|cy|ts)",
        r"internships?", r"interns?", r"officers?", r"assistants?", r"managers?",
        r"coordinators?", r"director", r"positions?", r"posts? of", r"employment",
        r"volunteers?", r"tutors?", r"stellen\w*", r"mitarbeiter\w*", r"referent\w*",
        r"volontariat", r"empleo", r"vacantes?", r"puestos?", r"emploi", r"postes?",
        r"recrutement", r"vagas?", r"emprego", r"lavoro", r"posizion[ei]",
        r"collaborazion[ei]", r"salary", r"salario", r"salaire", r"sal[áa]rio", r"gehalt",
        r"stipendio",
    ),
    "event": EVENT_NOUNS,
}
"""Words that make a listing one kind of opportunity, in tie-breaking order."""

# --- Funding --------------------------------------------------------------------------------

FUNDING_WORDS: dict[str, tuple[str, ...]] = {
    "travel": (
        r"travel (?:grants?|bursar(?:y|ies)|stipends?|allowances?|subsid(?:y|ies))",
        r"travel(?:ling)? (?:costs?|expenses?|support|funds?|funding|reimbursement)",
        r"travel", r"flights?", r"air ?fares?", r"airline tickets?", r"round[- ]trip",
        r"(?:gastos|costos|costes) de (?:viaje|traslado|transporte)", r"pasajes?",
        r"billets? d'avion", r"frais de (?:voyage|d[ée]placement|transport)", r"voyage",
        r"passagens?(?: a[ée]reas)?", r"despesas de (?:viagem|desloca[çc][ãa]o)", r"viagem",
        r"reisekosten", r"fahrtkosten", r"spese di viaggio", r"viaggio",
    ),
    "accommodation": (
        r"accommodations?", r"lodging", r"hotel", r"housing", r"room and board",
        r"alojamiento", r"hospedaje", r"h[ée]bergement", r"logement", r"hospedagem",
        r"alojamento", r"unterkunft", r"übernachtung(?:en)?", r"alloggio",
    ),
    "fees": (
        r"fee waivers?", r"(?:registration|conference|tuition|participation) fees?",
        r"tuition", r"free of charge", r"free registration", r"no (?:registration )?fees?",
        r"sin costo", r"gratuit[oae]?s?", r"matr[ií]cula", r"frais d'inscription",
        r"taxa de inscri[çc][ãa]o", r"teilnahmegebühr(?:en)?", r"kostenlos", r"kostenfrei",
        r"quota di iscrizione",
    ),
    "stipend": (
        r"stipends?", r"per diems?", r"daily allowances?", r"living allowances?",
        r"subsistence(?: allowances?)?", r"honorari(?:um|a)", r"monthly (?:allowance|payment|"
        r"support|grant)", r"asignaci[oó]n mensual", r"beca mensual", r"manutenci[oó]n",
        r"allocation mensuelle", r"indemnit[ée]s?(?: journali[èe]res)?", r"per[- ]diem",
        r"bolsa mensal", r"ajuda de custo", r"aufwandsentsch[äa]digung", r"taschengeld",
        r"indennit[àa]",
    ),
}
"""What an opportunity may pay for, by FUNDING_KINDS."""
