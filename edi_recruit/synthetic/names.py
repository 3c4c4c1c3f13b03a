"""Name lists for the synthetic trust (generator only).

Diverse UK names grouped by a broad naming tradition.  Every string is
representable in Windows-1252 (the ``csv-cp1252`` output format), so letters
such as ë, â, á, é, ö, ñ, ç appear but not, e.g., Polish ł.  The generator maps
an NHS ethnic category code to a naming group (``CODE_TO_GROUP``); the mapping
is deliberately loose (names are not a proxy the pipeline may use).
"""
from __future__ import annotations

import unicodedata

# group -> (female forenames, male forenames, surnames)
NAME_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "british": (
        ("Jane", "Sarah", "Emma", "Claire", "Rachel", "Helen", "Louise", "Katie", "Charlotte",
         "Hannah", "Joanne", "Rebecca", "Victoria", "Zoë", "Gemma", "Lucy", "Alison", "Fiona",
         "Amy", "Nicola", "Siân", "Megan", "Bethan", "Eleanor"),
        ("James", "David", "Mark", "Paul", "Andrew", "Richard", "Simon", "Stephen", "Matthew",
         "Thomas", "Daniel", "Christopher", "Gareth", "Rhys", "Ian", "Neil", "Robert", "Jonathan",
         "Oliver", "Benjamin", "Alistair", "Craig"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
         "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
         "Jackson", "Clarke", "Hughes", "Edwards", "Turner", "Hill", "Morgan", "Price",
         "Campbell", "Stewart", "MacDonald", "Llewellyn", "Fletcher", "Ashworth"),
    ),
    "irish": (
        ("Siobhán", "Aoife", "Niamh", "Orla", "Róisín", "Ciara", "Mairéad", "Sinéad", "Grainne", "Clodagh"),
        ("Seán", "Ciarán", "Declan", "Eoin", "Pádraig", "Cormac", "Niall", "Conor", "Darragh", "Colm"),
        ("O'Brien", "Murphy", "Kelly", "O'Sullivan", "Walsh", "McCarthy", "Byrne", "Ryan",
         "O'Connor", "Doherty", "Gallagher", "Ó Súilleabháin", "Kavanagh", "Fitzgerald"),
    ),
    "european": (
        ("Anna", "Maria", "Agnieszka", "Katarzyna", "Ioana", "Elena", "Sofia", "Inês", "Chloé",
         "Lena", "Françoise", "Mónica", "Zsófia", "Ana"),
        ("José", "Marco", "Tomasz", "Piotr", "Andrei", "João", "François", "Stefan", "Luca",
         "Nikolaos", "Jürgen", "Raúl", "Mateus", "Björn"),
        ("Kowalski", "Nowak", "Popescu", "Rossi", "García", "Fernández", "Müller", "Schmidt",
         "Papadopoulos", "Silva", "Dubois", "Novák", "Jansen", "Costa", "Martínez", "Lindström"),
    ),
    "south_asian": (
        ("Priya", "Anjali", "Sunita", "Fatima", "Ayesha", "Nusrat", "Kiran", "Deepa", "Shabana",
         "Meera", "Harpreet", "Rukhsana", "Nadia", "Farah", "Sanjana", "Tahmina"),
        ("Rajesh", "Amit", "Mohammed", "Imran", "Sanjay", "Arjun", "Vikram", "Asif", "Harjit",
         "Tariq", "Kamal", "Rahul", "Sandeep", "Anil", "Shahid", "Faisal"),
        ("Patel", "Shah", "Khan", "Ahmed", "Singh", "Kaur", "Begum", "Hussain", "Sharma", "Gupta",
         "Chowdhury", "Iqbal", "Rahman", "Mistry", "Desai", "Malik", "Choudhury", "Bhatt",
         "Nair", "Perera"),
    ),
    "black_african": (
        ("Chioma", "Ngozi", "Adaeze", "Abena", "Amina", "Folake", "Yetunde", "Nia", "Thandiwe",
         "Ama", "Blessing", "Efua", "Zainab", "Funmilayo"),
        ("Chinedu", "Oluwaseun", "Kwame", "Emeka", "Tunde", "Kofi", "Yaw", "Abdi", "Babatunde",
         "Ikenna", "Olumide", "Tendai", "Segun", "Kwabena"),
        ("Okafor", "Adeyemi", "Mensah", "Okonkwo", "Boateng", "Osei", "Adebayo", "Nwosu",
         "Owusu", "Abdullahi", "Eze", "Asante", "Ogunleye", "Mohamed", "Kamara", "Danso"),
    ),
    "black_caribbean": (
        ("Marcia", "Beverley", "Sharon", "Jacqueline", "Paulette", "Yvonne", "Simone", "Keisha",
         "Andrea", "Camille", "Tanisha", "Merlene"),
        ("Leroy", "Delroy", "Winston", "Marcus", "Clive", "Trevor", "Desmond", "Jermaine",
         "Dwayne", "Errol", "Courtney", "Lloyd"),
        ("Campbell", "Brown", "Williams", "Clarke", "Thomas", "Francis", "Henry", "Grant",
         "Barrett", "Bailey", "Douglas", "Reid", "McKenzie", "Gayle", "Forbes", "Samuels"),
    ),
    "chinese": (
        ("Mei", "Li", "Xiaoling", "Wing", "Yan", "Hui", "Jing", "Lok Yee", "Siu Ling", "Ying"),
        ("Wei", "Jun", "Hao", "Ka Wai", "Ming", "Chun", "Jian", "Kin", "Tao", "Zhi"),
        ("Wong", "Chan", "Li", "Zhang", "Chen", "Liu", "Wang", "Lam", "Cheung", "Ng", "Yeung", "Ho"),
    ),
    "other": (
        ("Layla", "Maryam", "Leila", "Samira", "Noor", "Yasmin", "Dalia", "Rania", "Mariam", "Hana"),
        ("Omar", "Ali", "Hassan", "Karim", "Youssef", "Ahmad", "Samir", "Nabil", "Rami", "Tarek"),
        ("Hassan", "Al-Sayed", "Haddad", "Nasser", "Ibrahim", "Abbas", "Farouk", "Saleh",
         "Mansour", "Aziz", "Nguyen", "Tran", "Santos", "Reyes", "Cruz"),
    ),
}


GROUPS: tuple[str, ...] = tuple(NAME_GROUPS)


# Main ethnic code -> naming groups (with weights).  Mixed codes draw from several.
CODE_TO_GROUP: dict[str, dict[str, float]] = {
    "A": {"british": 1.0},
    "B": {"irish": 0.8, "british": 0.2},
    "C": {"european": 0.85, "british": 0.15},
    "D": {"british": 0.5, "black_caribbean": 0.5},
    "E": {"british": 0.5, "black_african": 0.5},
    "F": {"british": 0.5, "south_asian": 0.5},
    "G": {"british": 0.4, "other": 0.3, "european": 0.3},
    "H": {"south_asian": 1.0},
    "J": {"south_asian": 1.0},
    "K": {"south_asian": 1.0},
    "L": {"south_asian": 0.7, "other": 0.3},
    "M": {"black_caribbean": 1.0},
    "N": {"black_african": 1.0},
    "P": {"black_african": 0.5, "black_caribbean": 0.5},
    "R": {"chinese": 1.0},
    "S": {"other": 0.8, "european": 0.2},
    "Z": {"british": 0.5, "south_asian": 0.2, "black_african": 0.15, "european": 0.15},
    "99": {"british": 0.5, "south_asian": 0.2, "black_african": 0.15, "european": 0.15},
}


TITLES_FEMALE: tuple[str, ...] = ("Mrs", "Ms", "Dr", "Miss", "Professor")


TITLES_MALE: tuple[str, ...] = ("Mr", "Dr", "Professor")


EMAIL_DOMAINS_EXTERNAL: tuple[str, ...] = (
    "gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "nhs.net", "icloud.com", "btinternet.com",
)


def ascii_fold(s: str) -> str:
    """Lower-case ASCII form used in e-mail addresses (Zoë -> zoe, O'Brien -> obrien)."""
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in s.lower() if ch.isalnum() or ch == "-").replace("--", "-")
