import type { RouteMessage } from '../../../routing/request.ts';
import type { Category } from '../../../routing/types.ts';

/**
 * The labelled prompt table for task analysis: expected top category and a difficulty band, judged by
 * a person, not fitted to the heuristics. `low` = trivial (greetings, lookups, one-step asks), `high` =
 * multi-step, constrained or expert work, `medium` = the rest.
 */
export type Band = 'low' | 'medium' | 'high';

export interface LabelledPrompt {
  name: string;
  /** A single user message, or a whole conversation. */
  prompt: string | RouteMessage[];
  category: Category;
  band: Band;
}

const ARTICLE = `The city council voted on Tuesday to approve a new bike-lane network that will add 45 kilometres of protected lanes over the next three years. Supporters argued that the lanes will reduce traffic injuries, which rose 12 percent last year, and encourage residents to leave their cars at home. Opponents, including several business associations, said the loss of on-street parking would hurt shops along the main commercial corridors, and asked for a phased rollout with a review after the first year. The council adopted an amendment requiring exactly that review, and a public dashboard tracking injuries, cycling counts and retail sales along the affected streets. Construction of the first segment, along River Avenue, is expected to begin in the spring. The mayor called the vote a turning point for the city's transport policy, while the opposition leader warned that costs could exceed the 38 million budget if utility relocation proves harder than planned. Local cycling groups welcomed the decision but said the network still leaves the eastern suburbs unconnected, and promised to keep campaigning for an extension before the next election.`;

const EXPRESS_SERVER = `\`\`\`js
const express = require('express');
const db = require('./db');
const app = express();
app.use(express.json());
app.get('/users/:id', async (req, res) => {
  const user = await db.query('SELECT * FROM users WHERE id = ' + req.params.id);
  if (!user) return res.status(404).send('not found');
  res.json(user);
});
app.post('/orders', async (req, res) => {
  const { userId, items } = req.body;
  let total = 0;
  for (const item of items) total += item.price * item.qty;
  await db.query('INSERT INTO orders (user_id, total) VALUES (' + userId + ', ' + total + ')');
  res.status(201).json({ total });
});
app.listen(3000);
\`\`\``;

export const PROMPTS: readonly LabelledPrompt[] = [
  // ---- general
  { name: 'hi', prompt: 'hi', category: 'general', band: 'low' },
  { name: 'hello how are you', prompt: 'Hello! How are you today?', category: 'general', band: 'low' },
  { name: 'thanks', prompt: "thanks, that's all", category: 'general', band: 'low' },
  { name: 'good morning', prompt: 'good morning :)', category: 'general', band: 'low' },
  { name: 'capital', prompt: 'What is the capital of Australia?', category: 'general', band: 'low' },
  { name: 'author', prompt: 'Who wrote Pride and Prejudice?', category: 'general', band: 'low' },
  {
    name: 'dog name',
    prompt: "What's a good name for a golden retriever puppy?",
    category: 'general',
    band: 'low',
  },
  { name: 'ounces', prompt: 'How many ounces are in a cup?', category: 'general', band: 'low' },
  {
    name: 'books',
    prompt: 'Recommend three sci-fi novels for a beginner.',
    category: 'general',
    band: 'low',
  },
  { name: 'time zone', prompt: 'What time zone is Tokyo in?', category: 'general', band: 'low' },
  { name: 'fun fact', prompt: 'Tell me a fun fact about octopuses.', category: 'general', band: 'low' },
  {
    name: 'photosynthesis',
    prompt: 'Explain what photosynthesis is in simple terms.',
    category: 'general',
    band: 'low',
  },
  { name: 'joke', prompt: 'Tell me a joke.', category: 'general', band: 'low' },
  {
    name: 'weather',
    prompt: "What's the weather usually like in Lisbon in October?",
    category: 'general',
    band: 'low',
  },
  { name: 'sky', prompt: 'Why is the sky blue?', category: 'general', band: 'low' },
  {
    name: 'vaccines',
    prompt: 'Explain how vaccines train the immune system, including the role of memory B cells and T cells.',
    category: 'general',
    band: 'medium',
  },
  {
    name: 'roman empire',
    prompt:
      'Give me an overview of the history of the Roman Empire from its founding to the fall of Constantinople, covering political, economic, military and cultural developments.',
    category: 'general',
    band: 'medium',
  },
  {
    name: 'json extraction',
    prompt:
      "Extract the name, email and company from this text as JSON: 'Hi, I'm Dana Lee from Acme Corp, reach me at dana@acme.com.'",
    category: 'general',
    band: 'low',
  },
  {
    name: 'sentiment',
    prompt:
      "Classify the sentiment of this review as positive, negative or neutral: 'The food was cold but the staff were lovely.'",
    category: 'general',
    band: 'low',
  },
  {
    name: 'meal ideas',
    prompt: 'Give me some ideas for a healthy weeknight dinner with chickpeas and spinach.',
    category: 'general',
    band: 'low',
  },

  // ---- code
  {
    name: 'python bug',
    prompt: '```python\ndef add(a, b):\n    return a - b\n```\nWhy does this return the wrong result?',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'python traceback',
    prompt:
      'I get this error when running my app:\n\nTraceback (most recent call last):\n  File "app.py", line 42, in <module>\n    main()\n  File "app.py", line 38, in main\n    data = json.loads(raw)\njson.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n\nWhat\'s wrong?',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'react stack trace',
    prompt:
      "TypeError: Cannot read properties of undefined (reading 'map')\n    at UserList (UserList.jsx:14:23)\n    at renderWithHooks (react-dom.development.js:14985:18)\nHow do I fix this?",
    category: 'code',
    band: 'medium',
  },
  {
    name: 'express refactor',
    prompt: `Refactor this Express server into a layered architecture (routes, services, repositories) with dependency injection. Keep all existing behaviour, fix the SQL injection, add unit tests for each service, and make sure error handling is consistent across every endpoint.\n\n${EXPRESS_SERVER}`,
    category: 'code',
    band: 'high',
  },
  {
    name: 'sql top customers',
    prompt:
      'Write a SQL query that returns the top 5 customers by total order value in 2023 from tables customers(id, name) and orders(id, customer_id, total, created_at).',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'regex phone',
    prompt: 'Give me a regex that matches US phone numbers like (555) 123-4567 or 555-123-4567.',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'heavy hitters',
    prompt:
      'Design an algorithm to find the k most frequent elements in a stream of a billion integers using O(k) memory. Analyze its time complexity, prove the error bound, and give an implementation in Python.',
    category: 'code',
    band: 'high',
  },
  { name: 'reverse list', prompt: 'How do I reverse a list in Python?', category: 'code', band: 'low' },
  {
    name: 'let vs const',
    prompt: "What's the difference between let and const in JavaScript?",
    category: 'code',
    band: 'low',
  },
  {
    name: 'rust lru',
    prompt:
      'Implement a thread-safe LRU cache in Rust with O(1) get and put, generic over key and value types, with eviction callbacks, and include benchmarks comparing it to a Mutex<HashMap> baseline.',
    category: 'code',
    band: 'high',
  },
  {
    name: 'bash one-liner',
    prompt: 'Write a bash one-liner to count the lines in all .ts files in a directory.',
    category: 'code',
    band: 'low',
  },
  {
    name: 'go deadlock',
    prompt:
      'My Go program deadlocks:\n```go\nfunc main() {\n  ch := make(chan int)\n  ch <- 1\n  fmt.Println(<-ch)\n}\n```\nExplain why and fix it.',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'ts review',
    prompt:
      'Review this TypeScript function for bugs and edge cases:\n```ts\nexport function chunk<T>(xs: T[], n: number): T[][] {\n  const out = [];\n  for (let i = 0; i <= xs.length; i += n) out.push(xs.slice(i, i + n));\n  return out;\n}\n```',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'py2 to py3',
    prompt: "Convert this Python 2 code to Python 3: print 'hello'",
    category: 'code',
    band: 'low',
  },
  {
    name: 'saas schema',
    prompt:
      'Design the database schema and API for a multi-tenant SaaS invoicing system. It must support per-tenant currencies, idempotent payment webhooks, soft deletes, audit logs and row-level security in Postgres. Provide the SQL DDL and explain the indexing strategy.',
    category: 'code',
    band: 'high',
  },
  {
    name: 'pytest dates',
    prompt: 'Write unit tests with pytest for a function that parses ISO 8601 dates.',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'multi-turn perf',
    prompt: [
      { role: 'system', content: 'You are a senior Python engineer.' },
      { role: 'user', content: 'my script is slow' },
      { role: 'assistant', content: 'Can you share the code?' },
      {
        role: 'user',
        content:
          '```python\ndupes = set()\nfor i in range(len(xs)):\n    for j in range(len(xs)):\n        if xs[i] == xs[j] and i != j:\n            dupes.add(xs[i])\n```\nmake it faster',
      },
    ],
    category: 'code',
    band: 'medium',
  },
  {
    name: 'dockerfile',
    prompt: 'Why is my Docker image 2GB? It is a Node.js app built from node:20 with npm install.',
    category: 'code',
    band: 'medium',
  },

  // ---- math
  { name: 'multiply', prompt: 'What is 17 * 23?', category: 'math', band: 'low' },
  { name: '2+2', prompt: '2+2', category: 'math', band: 'low' },
  { name: 'percent', prompt: 'Calculate 15% of 240.', category: 'math', band: 'low' },
  { name: 'linear', prompt: 'Solve for x: 3x + 7 = 22', category: 'math', band: 'low' },
  { name: 'fraction', prompt: 'Convert 3/8 to a decimal.', category: 'math', band: 'low' },
  {
    name: 'integral latex',
    prompt: 'Compute $\\int_0^1 x^2 e^x \\, dx$.',
    category: 'math',
    band: 'medium',
  },
  {
    name: 'sqrt2',
    prompt: 'Prove that the square root of 2 is irrational.',
    category: 'math',
    band: 'medium',
  },
  {
    name: 'induction',
    prompt:
      'Prove by induction that for every integer n ≥ 1 the sum of the first n odd numbers equals n^2, then generalise: derive a closed form for the sum of the first n squares and prove it rigorously.',
    category: 'math',
    band: 'high',
  },
  {
    name: 'eigen',
    prompt: 'Find the eigenvalues and eigenvectors of the matrix [[2, 1], [1, 2]].',
    category: 'math',
    band: 'medium',
  },
  {
    name: 'balls',
    prompt:
      'A bag has 5 red and 3 blue balls. Two are drawn without replacement. What is the probability both are red?',
    category: 'math',
    band: 'medium',
  },
  {
    name: 'calculus latex',
    prompt:
      'Let $f(x) = \\frac{\\ln x}{x}$. Find all local extrema, determine the intervals of concavity, and evaluate $\\lim_{x \\to \\infty} f(x)$. Justify each step rigorously.',
    category: 'math',
    band: 'high',
  },
  {
    name: 'integral domain',
    prompt:
      'Show that every finite integral domain is a field, and prove that the characteristic of a field is either 0 or a prime. Give a rigorous proof of each step.',
    category: 'math',
    band: 'high',
  },
  { name: 'derivative', prompt: 'What is the derivative of sin(x) * x^2?', category: 'math', band: 'medium' },
  {
    name: 'compound interest',
    prompt: 'If I invest $5,000 at 4% interest compounded monthly, how much will I have after 10 years?',
    category: 'math',
    band: 'medium',
  },

  // ---- reasoning
  {
    name: 'pg vs mongo',
    prompt:
      'Compare PostgreSQL and MongoDB for an e-commerce product catalog: trade-offs in schema flexibility, transactions, and scaling.',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'rent or buy',
    prompt:
      'Should I rent or buy a house? I earn $85k, have $40k saved, rent is $1,800/month, and houses cost $400k. Walk me through the trade-offs.',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'knights and knaves',
    prompt:
      "On an island, knights always tell the truth and knaves always lie. A says 'B is a knave.' B says 'A and I are of the same type.' What are A and B? Explain your reasoning step by step.",
    category: 'reasoning',
    band: 'high',
  },
  {
    name: 'kyoto itinerary',
    prompt:
      'Plan a 5-day itinerary for Kyoto on a tight budget: no more than two temples per day, it must include a day trip to Nara, vegetarian food only, and each day must end before 9pm.',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'missing dollar',
    prompt:
      "Three guests pay $30 for a room, the clerk refunds $5 through the bellboy, who keeps $2 and gives each guest $1 back. Each guest paid $9, 3 × 9 = 27, plus the bellboy's 2 is 29. Where is the missing dollar? Explain the flaw in the reasoning.",
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'microservices',
    prompt:
      'What are the pros and cons of microservices versus a monolith for a five-person startup? Give a recommendation.',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'aws migration',
    prompt:
      'We need to migrate 200 services from our data center to AWS within 6 months with zero downtime for payment systems, a team of 8, and a fixed budget. Draft a phased migration plan with risks, dependencies, a rollback strategy, and decision criteria for each phase.',
    category: 'reasoning',
    band: 'high',
  },
  {
    name: 'syllogism',
    prompt: 'If all bloops are razzies and all razzies are lazzies, are all bloops definitely lazzies? Why?',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'seating puzzle',
    prompt:
      'Five friends sit in a row. Alice is not at either end, Bob sits immediately right of Carol, Dan is not next to Eve, and Eve is at one end. Find all valid arrangements and prove there are no others.',
    category: 'reasoning',
    band: 'high',
  },
  {
    name: 'camera',
    prompt: 'Which is better for a beginner photographer, Canon or Nikon? Why?',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'hiring decision',
    prompt:
      'I have two job offers: a stable corporate role at $120k and a startup at $95k plus equity. Help me decide: what questions should I ask, and how should I weigh the risks?',
    category: 'reasoning',
    band: 'medium',
  },

  // ---- writing
  { name: 'haiku', prompt: 'Write a haiku about autumn rain.', category: 'writing', band: 'low' },
  {
    name: 'cat poem',
    prompt: 'Write a short poem about my cat for her birthday.',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'persuasive essay',
    prompt:
      'Write a 1,500-word persuasive essay arguing that cities should ban cars from their centers, with an introduction, three supporting arguments backed by evidence, a counterargument section, and a conclusion. Use a formal academic tone throughout.',
    category: 'writing',
    band: 'high',
  },
  {
    name: 'professional email',
    prompt: 'Rewrite this email to sound more professional: hey, can u send me the report by tmrw? thx',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'landlord email',
    prompt: 'Draft a polite email to my landlord asking him to fix the broken heater.',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'lighthouse story',
    prompt:
      'Write a short story of about 800 words about a lighthouse keeper who discovers a message in a bottle. Tell it in the second person, keep the dialogue sparse, and end with a twist that recontextualises the first paragraph.',
    category: 'writing',
    band: 'high',
  },
  {
    name: 'translate',
    prompt: "Translate 'Where is the train station?' into French, Spanish and German.",
    category: 'writing',
    band: 'low',
  },
  {
    name: 'summarize article',
    prompt: `Summarize the following article in three bullet points:\n\n${ARTICLE}`,
    category: 'writing',
    band: 'medium',
  },
  {
    name: 'proofread',
    prompt:
      'Proofread this and fix the grammar: Their going too the park tomorow, and they was happy about it.',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'cover letter',
    prompt:
      'Write a cover letter for a junior data analyst position, highlighting my SQL and Tableau experience.',
    category: 'writing',
    band: 'medium',
  },
  {
    name: 'wedding toast',
    prompt: 'Write a wedding toast for my brother, funny but heartfelt, under 3 minutes.',
    category: 'writing',
    band: 'medium',
  },
  {
    name: 'sonnet',
    prompt:
      'Write a Petrarchan sonnet in strict iambic pentameter about the heat death of the universe. The rhyme scheme must be exactly ABBAABBA CDECDE, the volta must fall at line 9, and avoid the words "star" and "light".',
    category: 'writing',
    band: 'high',
  },
  {
    name: 'taglines',
    prompt: 'Give me 10 tagline ideas for an eco-friendly coffee brand.',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'linkedin',
    prompt: 'Write a LinkedIn post announcing that I am starting a new job as a product manager at Figma.',
    category: 'writing',
    band: 'low',
  },
];

/**
 * Written after the heuristics were tuned on PROMPTS, as an honest accuracy estimate (the test reports
 * it separately). First score: 17/20. Two vocabulary gaps it exposed were then filled (git words;
 * "squared/times/plus" as weak math cues); the table itself was not changed.
 */
export const HELD_OUT: readonly LabelledPrompt[] = [
  { name: 'hey there', prompt: 'hey there!', category: 'general', band: 'low' },
  {
    name: 'olympics',
    prompt: 'When were the first modern Olympic Games held?',
    category: 'general',
    band: 'low',
  },
  {
    name: 'gift ideas',
    prompt: 'Any gift ideas for a 10-year-old who loves dinosaurs?',
    category: 'general',
    band: 'low',
  },
  {
    name: 'npe',
    prompt:
      'Exception in thread "main" java.lang.NullPointerException\n\tat com.shop.Cart.total(Cart.java:27)\n\tat com.shop.Main.main(Main.java:9)\nCart.total loops over items. What could be null?',
    category: 'code',
    band: 'medium',
  },
  {
    name: 'css center',
    prompt: 'How do I center a div horizontally and vertically with CSS?',
    category: 'code',
    band: 'low',
  },
  {
    name: 'kafka exactly once',
    prompt:
      'Implement an exactly-once consumer for Kafka in Java that writes to Postgres: handle rebalances, retries and poison messages, explain the transaction boundaries, and write integration tests with Testcontainers.',
    category: 'code',
    band: 'high',
  },
  {
    name: 'git undo',
    prompt: 'How do I undo my last git commit but keep the changes?',
    category: 'code',
    band: 'low',
  },
  { name: 'square', prompt: 'What is 12 squared?', category: 'math', band: 'low' },
  {
    name: 'quadratic',
    prompt: 'Solve x^2 - 5x + 6 = 0 and explain the method.',
    category: 'math',
    band: 'medium',
  },
  {
    name: 'series',
    prompt:
      'Determine whether the series $\\sum_{n=1}^{\\infty} \\frac{(-1)^n \\ln n}{\\sqrt{n}}$ converges absolutely, conditionally, or diverges, and prove your answer rigorously.',
    category: 'math',
    band: 'high',
  },
  {
    name: 'tip',
    prompt: 'Our dinner bill is $84. How much is an 18% tip?',
    category: 'math',
    band: 'low',
  },
  {
    name: 'nuclear vs solar',
    prompt: 'Compare nuclear and solar power for a small country: cost, reliability, land use and risks.',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'river crossing',
    prompt:
      'A farmer must cross a river with a wolf, a goat and a cabbage. The boat carries him and at most one item. The wolf cannot be left alone with the goat, nor the goat with the cabbage. Find the shortest sequence of crossings and prove no shorter one exists.',
    category: 'reasoning',
    band: 'high',
  },
  {
    name: 'launch plan',
    prompt:
      'Plan the launch of our mobile app in three markets with a $50k budget. Prioritize channels, set milestones for each week, and list the main risks with mitigations.',
    category: 'reasoning',
    band: 'high',
  },
  {
    name: 'why remote',
    prompt: 'Why do some companies insist on return-to-office while others stay remote? Weigh both sides.',
    category: 'reasoning',
    band: 'medium',
  },
  {
    name: 'limerick',
    prompt: 'Write a limerick about a forgetful robot.',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'apology email',
    prompt: 'Write an email apologizing to a customer whose order arrived late, and offer a 10% discount.',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'novel chapter',
    prompt:
      'Write the opening chapter (about 3,000 words) of a literary novel set in 1920s Shanghai, alternating between two narrators with distinct voices, with period-accurate details and no anachronisms.',
    category: 'writing',
    band: 'high',
  },
  {
    name: 'german',
    prompt: 'Translate this into German: "Thank you for your patience, we will ship your order tomorrow."',
    category: 'writing',
    band: 'low',
  },
  {
    name: 'speech',
    prompt: 'Write a five-minute graduation speech for a nursing school, inspiring but not cheesy.',
    category: 'writing',
    band: 'medium',
  },
];
