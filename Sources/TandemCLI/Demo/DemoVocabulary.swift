/// Names, units, skills and texts the demo draws from.
enum DemoVocabulary {
    static let femaleNames = [
        "Anna", "Lena", "Mia", "Sophie", "Laura", "Julia", "Sarah", "Lisa", "Katharina", "Hannah", "Emma", "Lea",
        "Marie", "Johanna", "Clara", "Sabine", "Petra", "Monika", "Ursula", "Claudia", "Andrea", "Birgit", "Susanne",
        "Gabriele", "Karin", "Jana", "Nele", "Greta",
    ]
    static let maleNames = [
        "Jonas", "Lukas", "Leon", "Felix", "Paul", "Tim", "Jan", "Niklas", "Finn", "David", "Klaus", "Peter", "Thomas",
        "Michael", "Wolfgang", "Jürgen", "Stefan", "Andreas", "Frank", "Uwe", "Matthias", "Bernd", "Dieter", "Ralf",
        "Markus", "Ole", "Emil", "Moritz",
    ]
    static let diverseNames = ["Alex", "Kim", "Robin", "Sascha", "Mika", "Noah", "Charlie", "Luca"]
    static let surnames = [
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
        "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
        "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann",
        "Köhler", "Jung", "Vogt", "Brandt", "Dittrich", "Sommer", "Roth", "Peters",
    ]
    static let units = [
        "IT", "Marketing", "Sales", "Finance", "HR", "Legal", "Operations", "Board", "Product", "Customer Service",
        "Logistics", "Communications",
    ]
    static let digitalSkills = [
        "linkedin", "instagram", "tiktok", "generative-ai", "chatgpt", "excel-automation", "zapier",
        "data-visualisation", "tableau", "teams", "slack", "video-editing", "podcasts", "e-commerce",
        "social-listening", "new-work",
    ]
    static let businessSkills = ["leadership", "strategy", "negotiation", "networking", "public-speaking", "budgeting"]
    static let interests = [
        "gaming", "cycling", "cooking", "music", "travel", "football", "photography", "hiking", "start-ups",
        "sustainability", "reading", "running",
    ]
    static let goals: [String: [String]] = [
        "linkedin": ["Create a LinkedIn profile", "Post about a project on LinkedIn"],
        "instagram": ["Understand how our brand shows up on Instagram"], "tiktok": ["Record a first TikTok"],
        "generative-ai": ["Draft a memo with an AI assistant"], "chatgpt": ["Summarise a meeting with ChatGPT"],
        "excel-automation": ["Automate a monthly Excel report"], "zapier": ["Automate a workflow with Zapier"],
        "data-visualisation": ["Build a first dashboard"], "tableau": ["Build a Tableau dashboard"],
        "teams": ["Run a meeting in Teams with breakout rooms"], "slack": ["Join three Slack channels"],
        "video-editing": ["Edit a short video"], "podcasts": ["Discuss three podcasts"],
        "e-commerce": ["Walk through our online shop as a customer"],
        "social-listening": ["Set up a social-listening alert"],
        "new-work": ["Try a week of remote work"],
    ]
    static let notes = [
        "We went through %@ step by step.", "Tried %@ live; next time practising alone.",
        "Good conversation about how younger colleagues use %@.", "Short session, a busy week.",
        "Looked at examples of %@ from other companies.", "Set up %@ together; it worked on the second try.",
    ]
    /// Check-in notes: for a low rating, then for a good one.
    static let checkInNotes = [
        [
            "We keep postponing; our calendars do not fit", "I am not sure we want the same things from this",
            "Hard to find a topic we both care about",
        ],
        ["Good conversations, I learn a lot", "We found our rhythm", "Very open, it works"],
    ]

    static let withdrawalNotes = [
        "Too much on my plate right now", "Moving to another company", "New role, new priorities",
        "Personal reasons", "We had different expectations",
    ]

    /// Spelt for an email address: ü → ue, and so on.
    static func ascii(_ text: String) -> String {
        var out = ""
        for c in text.lowercased() {
            switch c {
            case "ä": out += "ae"
            case "ö": out += "oe"
            case "ü": out += "ue"
            case "ß": out += "ss"
            case " ": out += "-"
            default: out.append(c)
            }
        }
        return out
    }
}
