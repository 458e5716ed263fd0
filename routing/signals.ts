/**
 * The cues task analysis counts. Each signal has a weight per match and a cap, so one repeated word
 * cannot swamp everything else. Most signals are word lists: written in a small regex-like syntax
 * (`|`, `(…)`, `?`, `[sz]`, `\d`, a trailing `\w*` / `\w+` for a prefix, a trailing `(?!…)`), matched
 * whole-word and case-insensitively, and counted by ONE pass over the text's words (see lexicon.ts)
 * instead of one regex scan each. They count exactly what `\b(list)\b` with the `gi` flags would. The
 * rest look at the shape of the text (fences, stack traces, identifiers, file names, operators,
 * arithmetic, LaTeX, list items) and are counted by the same pass or by a regex the pass decides is
 * worth running. A few signals look for the exact case code has (SQL keywords, identifiers). The word
 * lists were written for, and checked against, the labelled table in test/unit/routing/prompts.ts.
 */
export interface Signal {
  /** Index into a scan's counts (see lexicon.ts). */
  id: number;
  weight: number;
  cap: number;
}

/** A word-list signal: its pattern, and whether the words must appear in exactly the case given. */
export interface WordSignal {
  signal: Signal;
  words: string;
  exactCase?: boolean;
}

let nextId = 0;
const s = (weight: number, cap: number): Signal => ({ id: nextId++, weight, cap });
export const WORD_SIGNALS: WordSignal[] = [];
const w = (weight: number, cap: number, words: string, exactCase = false): Signal => {
  const signal = s(weight, cap);
  WORD_SIGNALS.push({ signal, words, exactCase });
  return signal;
};

// ------------------------------------------------------------------------------------------------ code

/** ``` (a fence pair counts 3). */
export const FENCE = s(1.5, 6);
/**
 * Stack traces and error names. Counted with this regex only when the scan saw one of its fixed
 * phrases or a stack-frame line; otherwise only the error-class alternative can match, and the scan
 * counts those words itself (see lexicon.ts).
 */
export const TRACE = s(2.5, 5);
export const TRACE_RE =
  /^\s+at \S.*:\d+(:\d+)?\)?$|Traceback \(most recent call last\)|File "[^"]+", line \d+|\b[A-Z]\w*(Error|Exception)\b|segmentation fault|core dumped|panicked at|undefined is not a function|cannot read propert/gim;
/**
 * Identifiers, exact case: `\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z][a-z0-9]+[A-Za-z0-9]*\b|\w\(\)|\b\w+\.\w+\(`
 * (snake_case, camelCase, `f()`, `obj.method(`), counted by the scan.
 */
export const IDENTIFIER = s(0.75, 3);
/** File names; run from the first `.ext` the scan found, as no match can start before it. */
export const FILE_NAME = s(1, 2);
export const FILE_EXTENSIONS =
  'py|js|mjs|ts|tsx|jsx|java|go|rs|rb|cpp|cc|hpp|cs|php|sql|sh|kt|swift|ya?ml|toml';
export const FILE_NAME_RE = new RegExp(`\\b[\\w-]+\\.(${FILE_EXTENSIONS})\\b`, 'gi');
/** Language and tooling words. */
export const CODE_WORDS = w(
  1,
  6,
  'functions?|def|class(es)?|methods?|return|const|let|var|imports?|async|await|lambda|struct|enum|interfaces?|generics?|go program|shell|postgres(ql)?|mysql|sqlite|mongodb|redis|api|endpoints?|http|graphql|compile[rsd]?|runtime|debug(ging)?|bugs?|stack trace|refactor(ing)?|unit tests?|pytest|jest|pull request|git|commits?|rebase|merge conflicts?|branch(es)?|docker|kubernetes|npm|pip|react|node\\.?js|express|django|flask|algorithm|data structures?|arrays?|linked list|hash ?map|binary tree|recursion|big-o|script|code|codebase|program|implement(ation)?|variables?|loops?|null|undefined|segfault|memory leak|threads?|thread-safe|mutex|deadlocks?|concurrency|goroutines?|channels?|schema|ddl|index(es|ing)?|queries|query|one-liner|library|framework|backend|frontend|server|database',
);
/** Naming a language or query syntax is a strong cue on its own. */
export const LANGUAGE = w(
  2,
  4,
  'python|javascript|typescript|java|rust|golang|kotlin|swift|ruby|php|bash|powershell|c\\+\\+|c#|sql|regex(es)?|regexp|regular expressions?|html|css',
);
export const SQL = w(
  1,
  3,
  'SELECT|INSERT INTO|UPDATE|DELETE FROM|WHERE|JOIN|GROUP BY|ORDER BY|CREATE TABLE',
  true,
);
/** `=>|->|::|===|!==|\+\+|&&|\|\||[{};]\s*$` (multiline), counted by the scan. */
export const OPERATOR = s(0.5, 2);

export const CODE: readonly Signal[] = [
  FENCE,
  TRACE,
  IDENTIFIER,
  FILE_NAME,
  CODE_WORDS,
  LANGUAGE,
  SQL,
  OPERATOR,
];

// ------------------------------------------------------------------------------------------------ math

/** LaTeX; the regex runs only on text with a backslash or a dollar sign. */
export const LATEX = s(2, 6);
export const LATEX_RE =
  /\\(frac|int|iint|sum|prod|sqrt|lim|infty|alpha|beta|gamma|theta|lambda|pi|cdot|times|leq|geq|neq|partial|mathbb|mathrm|binom|ln|log|sin|cos|to)\b|\$[^$\n]*[\\^_=][^$\n]*\$/g;
/** Any of ∫∑∏√π≤≥≠∞∂±÷×, counted by the scan. */
export const MATH_SYMBOL = s(1.5, 3);
export const MATH_SYMBOLS = '∫∑∏√π≤≥≠∞∂±÷×';
/**
 * Arithmetic: a minus sign only with spaces around it, so dates and phone numbers do not count. The
 * scan tries this (sticky) only where a match can start: after a number, or at a `2x`-shaped word.
 */
export const ARITHMETIC = s(1.5, 4.5);
export const ARITHMETIC_RE =
  /\d\s*[+*/^×÷]\s*\(?\d|\d\s+-\s+\(?\d|\d\s*=\s*\d|\b\d*[a-z]\^\d|\b\d+[a-z]\s*[-+=]|\b[a-z]\s*[+=]\s*\d/y;
export const MATH_WORDS = w(
  1.5,
  6,
  'prove|proof|theorem|lemma|corollary|integrals?|integrate|derivatives?|differentiate|equations?|inequalit(y|ies)|probability|expected value|variance|matri(x|ces)|eigen\\w*|determinant|primes?|polynomials?|factorial|modulo|logarithms?|square root|algebra(ic)?|geometry|triangles?|radius|vectors?|limit|converge\\w*|divisible|gcd|lcm|combinatorics|permutations?|induction|irrational|integers?|extrema|concavity|derivative|field|integral domain|characteristic|decimal|fraction',
);
/** Plus one per `%`, counted by the scan. */
export const QUANTITY = w(
  0.75,
  3,
  'solve|compute|calculate|how (many|much)|percent(age)?|sum of|average|mean|ratio|interest rate|compound(ed|ing)?|squared|cubed|divided by|times|plus|minus',
);

export const MATH: readonly Signal[] = [LATEX, MATH_SYMBOL, ARITHMETIC, MATH_WORDS, QUANTITY];

// ------------------------------------------------------------------------------------------- reasoning

/** Why/compare/trade-off/plan, logic puzzles, decisions. Explicit comparison or decision framing counts double. */
export const REASONING: readonly Signal[] = [
  w(
    1,
    3,
    'compare|comparison|trade-?offs?|pros and cons|versus|should i|help me decide|which is better|flaw|fallacy|puzzle|riddle|paradox',
  ),
  w(
    1,
    5,
    'why|compare|comparison|trade-?offs?|pros and cons|versus|vs\\.?|plan|planning|strategy|should i|should we|decide|decision|evaluate|analy[sz]e|implications?|reasoning|logic(al)?|puzzle|riddle|paradox|deduce|infer|hypothes\\w+|arguments?|assumptions?|which is better|best approach|step by step|think through|weigh|prioriti[sz]e|itinerary|schedule|roadmap|risks?|recommendation|difference between|arrangements?',
  ),
  w(
    1.5,
    4.5,
    'knights?|knaves?|always lies|tells? the truth|liars?|syllogism|are all|definitely|if and only if|sits?|seated|immediately (left|right)',
  ),
];

// --------------------------------------------------------------------------------------------- writing

/** Forms (essay, poem, email…), editing verbs, tone and style words. */
export const WRITING: readonly Signal[] = [
  w(
    2,
    6,
    'essays?|stor(y|ies)|poems?|poetry|haikus?|sonnets?|limericks?|lyrics|song|novel|chapter|fiction|narrative|blog post|article|cover letter|letter|e-?mails?|memo|speech|toast|eulogy|slogans?|taglines?|headlines?|captions?|tweets?|linkedin post|press release|newsletter|product description|bio|screenplay|dialogue|characters?|plot|tone|paragraphs?|prose|rhyme|metaphors?|persuasive|iambic|pentameter|stanza|verse',
  ),
  w(
    1,
    4,
    'write|rewrite|rephrase|paraphrase|proofread|edit|polish|draft|compose|translate|translation|summari[sz]e|summary|tl;?dr|shorten|formal|informal|friendly|professional|polite|concise|grammar|wording|funny|heartfelt',
  ),
  w(1, 2, 'translate|summari[sz]e|proofread'),
  w(
    0.5,
    1.5,
    'english|french|spanish|german|italian|portuguese|japanese|chinese|mandarin|korean|russian|arabic|hindi|dutch',
  ),
];

// --------------------------------------------------------------------------------------------- general

/** Extraction and classification of given text, the everyday data chores. */
export const GENERAL: readonly Signal[] = [
  w(1.5, 3, 'extract|classify|categori[sz]e|label|as json|into json|tell me about|fun fact|recommend'),
];

/** A message that is only a greeting, thanks or small talk. */
export const GREETING =
  /^\s*(hi+|hello+|hey+|yo|hiya|howdy|greetings|good (morning|afternoon|evening|night)|thanks?( you)?( so much)?|thx|ty|cheers|ok(ay)?|cool|great|nice|bye|goodbye|see you|how are you( doing)?( today)?|what'?s up|sup)\b[\s\w,.!?:)'(-]{0,40}$/i;

// ------------------------------------------------------------------------------------------ difficulty

/**
 * Hardness cues: words that mark a demanding task regardless of its topic. Each counts toward
 * difficulty; three or more saturate the signal. Besides the words, the scan counts `O(…)` followed by a
 * word character and `\b\d[\d,]{2,}[- ]words?\b` ("a 1,500-word essay", HARD_LENGTH_RE), in place.
 */
export const HARD = w(
  1,
  Number.POSITIVE_INFINITY,
  'prove|proof|rigorous(ly)?|formally|optimal|optimi[sz]e|complexity|edge cases|concurren(t|cy)|race conditions?|thread-safe|lock-free|distributed|scalab\\w+|architecture|multi-tenant|idempoten\\w+|zero downtime|in depth|in-depth|comprehensive|detailed|thorough(ly)?|advanced|tricky|justify|derive|generali[sz]e|all (valid|possible)|no others|exactly|trade-?offs?|rollback|migrat\\w+|benchmarks?|step by step|twist|recontextuali[sz]\\w+|strict|academic|counterarguments?|evidence|precise(ly)?|soundness|undefined behaviou?r|memory model|invariants?|failure modes?|root cause|critically|nuanced|subtle|worst case|asymptotic',
);
export const HARD_LENGTH_RE = /\d[\d,]{2,}[- ]words?\b/iy;

/** Easy cues: the client says it is small. Each lowers difficulty a little. */
export const EASY = w(
  1,
  Number.POSITIVE_INFINITY,
  'quick(ly)?|simple|simply|briefly|short(?! story)|one word|one-liner|just|tl;?dr|in simple terms|eli5|fun fact',
);

/**
 * Constraints: words that add a requirement the answer must meet, and list items (each a separate
 * requirement; LIST_ITEM_RE, run only when some line starts with a marker). Count toward difficulty
 * and, lightly, toward reasoning.
 */
export const CONSTRAINT = w(
  1,
  Number.POSITIVE_INFINITY,
  "must( not)?|without|at most|at least|exactly|no more than|under \\d|only if|unless|constraints?|requirements?|given that|assume|ensure|make sure|each|every|keep all|don'?t|do not|never|always",
);
export const LIST_ITEM_RE = /^\s*(?:[-*•]|\d+[.)])\s+/gm;

/**
 * Commas and semicolons (also the CJK ，、；) separate listed requirements; each counts half a
 * constraint (counted by the scan).
 */
export const CLAUSE = s(0.5, Number.POSITIVE_INFINITY);

/**
 * Depth: the answer must explain, cover several aspects, design or judge: more than a lookup. Counted
 * in the instructions, toward difficulty only.
 */
export const DEPTH = w(
  1,
  Number.POSITIVE_INFINITY,
  'explain|explanation|why|how (does|do|is|are|can|would|should)|walk me through|overview|in detail|consequences|mechanisms?|limitations|implications|including|covering|both|assess|evaluate|critique|concrete|examples?|design|implement|recommend(ation)?|risks?|strateg(y|ies)|options|what would',
);

/** Conjunctions joining the parts of a many-part ask; with the commas (CLAUSE), its number of parts. */
export const CONJUNCTION = w(1, Number.POSITIVE_INFINITY, 'and|then|also|plus|as well as|along with');

/**
 * The commonest English function words: a text of several words with almost none of them is not
 * English, and the word lists above cannot read it (see difficulty.ts).
 */
export const FUNCTION_WORD = w(
  1,
  Number.POSITIVE_INFINITY,
  'the|a|an|of|to|in|is|are|was|for|with|on|that|this|it|be|i|my|you|your|what|how|me|do|does|can|from|by|or|if|as|at|we|our|which|there|have|has|not|but|would|should|will',
);

/** ASCII words (runs of `\w`), counted by the scan: the instruction's length in words. */
export const WORD_COUNT = s(0, 0);
/**
 * Letters of scripts the word lists cannot read (Greek, Cyrillic, Arabic, Indic, CJK, Hangul…:
 * U+0370 and above, outside punctuation and symbol blocks), counted by the scan.
 */
export const NON_LATIN = s(0, 0);
export const NON_LATIN_RE =
  /[\u0370-\u03bf\u03c1-\u167f\u1681-\u1fff\u2c00-\u2fff\u3040-\ud7ff\uf900-\ufdff]/g;

/** Scan-internal counters: a stack-trace phrase or frame line was seen; error-class words; `.ext` seen. */
export const TRACE_CUE = s(0, 0);
export const ERROR_NAME = s(0, 0);
export const EXTENSION_CUE = s(0, 0);

export const SIGNAL_COUNT = nextId;
