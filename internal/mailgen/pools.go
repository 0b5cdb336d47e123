package mailgen

// The tables below are read-only after initialisation; they are package
// variables only because Go has no constant slices.

// person is a mailbox owner: display name plus address parts.
type person struct {
	name   string
	local  string
	domain string
	lang   string // "" for English, else a key into sentencesByLang
}

func (p person) addr() string { return p.local + "@" + p.domain }

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason",
	"Isabella", "Lucas", "Mia", "James", "Charlotte", "Benjamin", "Amelia",
	"Henry", "Harper", "Daniel", "Evelyn", "Samuel", "Priya", "Wei",
	"Fatima", "Carlos", "Aisha", "Mateo", "Hannah", "Omar", "Grace", "Kenji",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
	"Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson",
	"Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
	"Patel", "Chen", "Nguyen", "Kim", "O'Brien", "Walker", "Hall", "Young",
}

var domains = []string{
	"example.com", "example.org", "example.net", "mail.example.com",
	"corp.example.org", "dev.example.net", "eu.example.com",
}

// intlPeople exercise RFC 2047 display names; their lang selects body text
// so that non-ASCII senders also produce non-ASCII bodies.
var intlPeople = []person{
	{name: "Jürgen Müller", local: "juergen.mueller", domain: "de.example.org", lang: "de"},
	{name: "Björn Größe", local: "bjoern", domain: "example.net", lang: "de"},
	{name: "田中 太郎", local: "taro.tanaka", domain: "jp.example.net", lang: "ja"},
	{name: "佐藤 花子", local: "hanako.sato", domain: "example.com", lang: "ja"},
	{name: "Дмитрий Иванов", local: "d.ivanov", domain: "example.org", lang: "ru"},
	{name: "Ольга Смирнова", local: "olga", domain: "example.net", lang: "ru"},
	{name: "Zoë Lefèvre", local: "zoe.lefevre", domain: "example.com", lang: "fr"},
	{name: "José Álvarez", local: "jose.alvarez", domain: "example.org", lang: "es"},
}

var subjects = []string{
	"Quarterly report draft",
	"Lunch on Thursday?",
	"Re-scheduling our 1:1",
	"Invoice #%d",
	"Your order #%d has shipped",
	"Build failed on main",
	"Design review notes",
	"Question about the API rate limits",
	"Welcome to the team!",
	"Updated travel itinerary",
	"Contract renewal",
	"Offsite agenda",
	"Password reset request",
	"PR #%d: fix flaky IMAP IDLE test",
	"Minutes from today's standup",
	"Budget approval needed",
	"Photos from the weekend",
	"Can you review this by Friday?",
	"Server maintenance window tonight",
	"Follow-up on our call",
	"Holiday schedule",
	"New comment on your document",
	"Reminder: dentist appointment",
	"Re-org announcement",
	"Release v%d.4.0 checklist",
	"Security advisory for the build server",
	"Happy birthday!",
	"Feedback on the onboarding flow",
	"Meeting room change",
	"Weekly metrics summary",
	"A rather long subject line that keeps going because some people write the whole email into the subject field",
}

// intlSubjects carry the lang of the language they are written in.
var intlSubjects = []struct{ text, lang string }{
	{"Besprechung am Dienstag – Änderungen", "de"},
	{"Grüße aus München", "de"},
	{"Rechnung für März (überfällig)", "de"},
	{"会議の議事録について", "ja"},
	{"来週の出張の件", "ja"},
	{"お問い合わせありがとうございます", "ja"},
	{"Отчёт за квартал", "ru"},
	{"Встреча в пятницу", "ru"},
	{"Счёт на оплату №%d", "ru"},
	{"Réunion déplacée à jeudi", "fr"},
	{"Año nuevo, presupuesto nuevo", "es"},
	{"Launch party 🎉 this Friday", ""},
}

var words = []string{
	"the", "project", "team", "we", "should", "update", "meeting", "schedule",
	"next", "week", "please", "review", "attached", "document", "before",
	"deadline", "client", "mentioned", "that", "they", "would", "like",
	"more", "details", "about", "budget", "and", "timeline", "I", "think",
	"it", "makes", "sense", "to", "move", "forward", "with", "plan",
	"however", "there", "are", "a", "few", "open", "questions", "regarding",
	"deployment", "server", "configuration", "let", "me", "know", "if",
	"you", "have", "any", "concerns", "thanks", "for", "your", "help",
	"on", "this", "data", "migration", "was", "completed", "last", "night",
	"without", "issues", "but", "backup", "job", "took", "longer", "than",
	"expected", "our", "customers", "reported", "some", "slowness", "in",
	"mobile", "app", "after", "release", "can", "look", "into", "logs",
	"when", "get", "chance", "agreed", "also", "need", "finalize", "contract",
	"by", "end", "of", "month", "legal", "has", "already", "signed", "off",
	"draft", "numbers", "look", "good", "overall", "quarter", "revenue",
	"grew", "compared", "previous", "year", "marketing", "campaign",
	"launch", "is", "planned", "for", "spring", "design", "mockups",
	"feedback", "from", "users", "has", "been", "mostly", "positive",
}

// sentencesByLang provide non-English body text; whole sentences rather
// than words because Japanese has no spaces to join words with.
var sentencesByLang = map[string][]string{
	"de": {
		"Vielen Dank für die schnelle Rückmeldung.",
		"Können wir den Termin auf nächste Woche verschieben?",
		"Die Unterlagen schicke ich Ihnen bis Freitag.",
		"Bitte prüfen Sie die Änderungen im Anhang.",
		"Wir müssen noch über das Budget für das nächste Quartal sprechen.",
		"Schöne Grüße an das ganze Team in Köln.",
	},
	"ja": {
		"いつもお世話になっております。",
		"先日の会議の資料をお送りします。",
		"ご確認のほど、よろしくお願いいたします。",
		"来週の火曜日にお時間をいただけますでしょうか。",
		"詳細は添付のファイルをご覧ください。",
		"何かご不明な点がございましたら、お気軽にご連絡ください。",
	},
	"ru": {
		"Спасибо за быстрый ответ.",
		"Давайте обсудим это на следующей неделе.",
		"Отчёт будет готов к пятнице.",
		"Пожалуйста, проверьте вложенный документ.",
		"Мы ещё не согласовали бюджет на следующий квартал.",
		"С уважением и наилучшими пожеланиями.",
	},
	"fr": {
		"Merci pour votre réponse rapide.",
		"Pourriez-vous vérifier le document ci-joint ?",
		"La réunion est déplacée à jeudi après-midi.",
		"Nous avons reçu les épreuves corrigées hier soir.",
		"À bientôt, et bonne fin de semaine !",
	},
	"es": {
		"Gracias por la información.",
		"¿Podemos revisar el presupuesto mañana?",
		"Te envío el informe actualizado en cuanto esté listo.",
		"La reunión será en la sala de conferencias del tercer piso.",
		"Un saludo cordial desde Málaga.",
	},
}

var greetingsByLang = map[string]string{
	"":   "Hi %s,",
	"de": "Hallo %s,",
	"ja": "%s様",
	"ru": "Здравствуйте, %s!",
	"fr": "Bonjour %s,",
	"es": "Hola %s,",
}

// attachmentKind describes a binary attachment: the magic prefix makes the
// decoded bytes sniff as the declared type in clients that check.
type attachmentKind struct {
	name        string // fmt pattern taking one int
	contentType string
	magic       string
}

var attachmentKinds = []attachmentKind{
	{"invoice-%d.pdf", "application/pdf", "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"},
	{"IMG_%d.jpg", "image/jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"},
	{"screenshot-%d.png", "image/png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
	{"report-Q%d.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "PK\x03\x04\x14\x00\x06\x00"},
	{"archive-%d.zip", "application/zip", "PK\x03\x04\x0a\x00\x00\x00"},
}

// mailingList is a list whose List-Id starts with its name; the rest of the
// List-Id is the list server's host.
type mailingList struct{ name, id string }

func (l mailingList) host() string { return l.id[len(l.name)+1:] }

// mailingLists are used for List-* headers.
var mailingLists = []mailingList{
	{"dev", "dev.lists.example.org"},
	{"announce", "announce.lists.example.net"},
	{"imap-users", "imap-users.lists.example.com"},
	{"go-users", "go-users.lists.example.org"},
}

var userAgents = []string{
	"Mozilla Thunderbird 128.4.0",
	"Apple Mail (2.3774.500.171.1.1)",
	"Microsoft Outlook 16.0",
	"Evolution 3.52.2",
	"Mutt/2.2.13 (2024-03-09)",
	"aerc 0.18.2",
}

// zones are fixed offsets so that the Date header text does not depend on
// the tzdata installed where the tests run.
var zones = []struct {
	name string
	off  int // seconds east of UTC
}{
	{"PST", -8 * 3600}, {"EST", -5 * 3600}, {"UTC", 0}, {"CET", 3600},
	{"EET", 2 * 3600}, {"MSK", 3 * 3600}, {"IST", 5*3600 + 1800},
	{"JST", 9 * 3600}, {"BRT", -3 * 3600},
}
