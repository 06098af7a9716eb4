"""Phrase banks of the sample generator: the words a support inbox is made of.

Everything here is data. Placeholders in braces (``{order}``, ``{name}``, ``{very}``...) are
filled by :mod:`orchestration.sample.generator`. Names, e-mail domains and phone numbers are
fictional: mail goes to ``example.com`` / ``.example`` domains, phones to the 555-01xx range.
"""

FIRST_NAMES = (
    "Jane",
    "John",
    "Maria",
    "David",
    "Sarah",
    "Michael",
    "Emma",
    "James",
    "Olivia",
    "Robert",
    "Sophia",
    "William",
    "Ava",
    "Daniel",
    "Mia",
    "Joseph",
    "Isabella",
    "Thomas",
    "Emily",
    "Chris",
    "Grace",
    "Matthew",
    "Chloe",
    "Anthony",
    "Lily",
    "Mark",
    "Hannah",
    "Paul",
    "Zoe",
    "Steven",
    "Aisha",
    "Kevin",
    "Priya",
    "Brian",
    "Mei",
    "Jason",
    "Fatima",
    "Ryan",
    "Yuki",
    "Eric",
    "Laura",
    "Jacob",
    "Nora",
    "Gary",
    "Ella",
    "Tim",
    "Ruth",
    "Omar",
    "Amy",
    "Luis",
    "Kim",
    "Sam",
    "Alex",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Jamie",
    "Riley",
    "Avery",
    "Lucas",
    "Noah",
    "Leah",
    "Ben",
    "Rachel",
    "Adam",
    "Nina",
    "Victor",
    "Tara",
    "Kofi",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Scott",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Patel",
    "Nguyen",
    "Kim",
    "Okafor",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Silva",
    "Novak",
    "Murphy",
    "Chen",
)
AGENT_NAMES = ("Alex", "Sam", "Jordan", "Priya", "Marco", "Lena", "Tom", "Grace", "Omar", "Julia")

TOPICS = (
    "refund",
    "delivery",
    "login",
    "billing",
    "damaged",
    "subscription",
    "app_crash",
    "wrong_item",
    "return",
    "promo",
)
INCIDENT_TOPICS = ("login", "app_crash", "delivery", "billing")

INTENSIFIERS = ("very", "extremely", "so", "really", "incredibly", "super", "absolutely")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

EMOJI = {
    "angry": ("😡", "🤬", "😤", "😠"),
    "frustrated": ("😞", "🙄", "😩", "😭", "😕"),
    "neutral": ("🙂", "🤔"),
    "positive": ("🙂", "👍", "🙏", "😊", "❤️", "🎉"),
}

SUBJECTS = {
    "refund": ("Refund for order {order}", "Where is my refund?", "Refund request #{order}"),
    "delivery": ("Where is my order #{order}?", "Order {order} not delivered", "Delivery status"),
    "login": ("Can't log in", "Password reset not working", "Account locked"),
    "billing": ("Double charge on my card", "Question about my invoice", "Billing issue"),
    "damaged": ("Damaged item received - order {order}", "Broken item", "Order {order} damaged"),
    "subscription": ("Cancel my subscription", "Subscription renewal", "Pause subscription"),
    "app_crash": ("App keeps crashing", "App not working", "Bug in the app"),
    "wrong_item": ("Wrong item in order {order}", "Missing items", "Incorrect order"),
    "return": ("Return request for order {order}", "Return label", "Return status"),
    "promo": ("Discount code not working", "Promo code {code}", "Question about a discount"),
}

# --- English, customer side ---------------------------------------------------------------

OPENERS_NEGATIVE = {
    "refund": (
        "I returned my order #{order} {n} weeks ago and I still haven't received my refund.",
        "Where is my refund?? You said 5 days and it's been {n} weeks.",
        "I was promised a refund for order {order} and nothing has come back to my card.",
    ),
    "delivery": (
        "My order #{order} never arrived.",
        "The tracking says delivered but there is NO package at my door.",
        "My package is {n} days late and nobody is telling me anything.",
    ),
    "login": (
        "I can't log in to my account, it keeps saying my password is wrong.",
        "The password reset email never arrives.",
        "I've been locked out of my account since yesterday.",
    ),
    "billing": (
        "I was charged twice for order #{order}.",
        "There's a charge of ${amount} on my card that I don't recognise.",
        "You charged me again after I cancelled.",
    ),
    "damaged": (
        "My order #{order} arrived damaged, the box was crushed and the lamp is broken.",
        "The screen on the tablet I received is cracked.",
        "Half of the glasses in my order arrived broken.",
    ),
    "subscription": (
        "I cancelled my subscription last month but you still charged me.",
        "I want to cancel my subscription and I can't find how to do it anywhere.",
        "My subscription renewed without any warning.",
    ),
    "app_crash": (
        "The app crashes every time I open it.",
        "Since the last update the app keeps freezing at checkout.",
        "The app isn't working at all on my phone.",
    ),
    "wrong_item": (
        "I received the wrong item in order #{order}.",
        "I ordered a blue jacket in size M and got a red one in XL.",
        "My order {order} is missing two items.",
    ),
    "return": (
        "I'm trying to return order #{order} but the return label doesn't work.",
        "I sent my return back {n} weeks ago and haven't heard anything.",
    ),
    "promo": (
        "The discount code {code} isn't working at checkout.",
        "I didn't get the 20% discount that was advertised.",
    ),
}

OPENERS_NEUTRAL = {
    "refund": (
        "Hi, I'd like to request a refund for order #{order}.",
        "Can you tell me the status of the refund for order {order}?",
    ),
    "delivery": (
        "Hi, when will my order #{order} be delivered?",
        "Can I change the delivery address for order {order}?",
    ),
    "login": (
        "How do I reset my password?",
        "I need to change the email address on my account.",
    ),
    "billing": (
        "Could you send me an invoice for order #{order}?",
        "Which payment methods do you accept for business accounts?",
    ),
    "damaged": (
        "One of the items in order #{order} arrived with a small scratch.",
        "The corner of the frame in my order {order} is a bit chipped.",
    ),
    "subscription": (
        "How do I pause my subscription for a month?",
        "I'd like to switch to the yearly plan.",
    ),
    "app_crash": (
        "Is there a way to use the app offline?",
        "The app logged me out after the update, is that expected?",
    ),
    "wrong_item": ("I think I got a different colour than the one I ordered in order #{order}.",),
    "return": (
        "What is your return policy for sale items?",
        "How do I return an item from order #{order}?",
    ),
    "promo": (
        "Do you have any discounts for students?",
        "Can I use two discount codes on one order?",
    ),
}

OPENERS_POSITIVE = (
    "Hi! I just wanted to say I love my new order, thank you!",
    "Your team was super helpful last time, so hoping you can help again!",
    "Great service as always.",
    "Loving the new app update, it's so much faster.",
    "Hi there, huge fan of your products.",
)

DETAILS = {
    "refund": (
        "I paid with my credit card ending in {card}.",
        "The return was confirmed by email on {weekday}.",
    ),
    "delivery": (
        "Tracking hasn't updated since {weekday}.",
        "I've checked with my neighbours and nobody has it.",
    ),
    "login": ("I'm using the email {email}.", "I've tried resetting it three times."),
    "billing": ("Both charges are for ${amount}.", "My card ends in {card}."),
    "damaged": ("I have photos if you need them.", "The packaging was completely torn."),
    "subscription": ("The account email is {email}.", "I'm on the monthly plan."),
    "app_crash": (
        "I'm on an iPhone 13 with iOS 17.",
        "I'm using a Samsung Galaxy S22 with the latest app version.",
        "I already tried reinstalling it.",
    ),
    "wrong_item": ("The packing slip says it's the right item but it's not.",),
    "return": ("The label page says 'invalid shipment'.", "I dropped it off at the post office."),
    "promo": ("It says the code has expired but your email says it's valid all month.",),
}

QUESTIONS = {
    "refund": ("When will I get my money back?", "How long does a refund take?"),
    "delivery": ("Where is my package?", "Can you send a replacement?"),
    "login": ("Can you help me get back into my account?", "What am I doing wrong?"),
    "billing": ("Can you refund the duplicate charge?", "What is this charge for?"),
    "damaged": ("Can you send me a replacement?", "Do I need to send it back?"),
    "subscription": ("Can you cancel it and refund the last payment?", "How do I stop it?"),
    "app_crash": ("Is there a fix for this?", "When will this be fixed?"),
    "wrong_item": ("How do I get the right one?", "Can you send the missing items?"),
    "return": ("Can you send me a new label?", "When will my return be processed?"),
    "promo": ("Can you apply the discount manually?", "Is there another code I can use?"),
}

EMOTIONS = {
    "angry": (
        "This is {very} unacceptable.",
        "I am NOT happy.",
        "Worst customer service ever.",
        "I want to speak to a manager.",
        "I've been a customer for {years} years and I've never been treated like this.",
        "This is a complete joke.",
        "I'm {very} angry right now.",
        "Absolutely ridiculous.",
    ),
    "frustrated": (
        "This is getting {very} frustrating.",
        "I'm not happy about this.",
        "Honestly pretty disappointed.",
        "I've already contacted you twice about this.",
        "Please sort this out.",
        "Not impressed.",
    ),
    "neutral": ("Thanks.", "Thanks in advance.", "Please let me know.", ""),
    "positive": ("Thanks so much!", "You guys are the best!", "Appreciate it!"),
}

FOLLOWUPS = {
    "angry": (
        "STILL nothing. This is ridiculous!",
        "I already gave you my order number TWICE.",
        "That doesn't help at all.",
        "Why is this so hard? Just refund me.",
        "I'm going to dispute the charge with my bank.",
        "Never ordering from you again.",
        "This is the third time I'm explaining this.",
        "Are you even reading my messages?",
        "I don't want a voucher, I want my money back.",
        "Unbelievable. {n} days and still no answer.",
        "I'm leaving a 1-star review everywhere.",
        "Your service is a joke and I'm {very} disappointed.",
    ),
    "frustrated": (
        "I tried that and it still isn't working.",
        "Hmm, that didn't work either.",
        "It's been {n} days and I'm still waiting.",
        "Still getting the same error.",
        "ok but when exactly?",
        "That's not really what I asked.",
        "I already did that, twice.",
        "Still nothing on my end.",
        "Not great, I needed it for this weekend.",
        "I don't understand why this takes so long.",
    ),
    "neutral": (
        "It's order {order}.",
        "My email is {email}.",
        "The order number is #{order}.",
        "I ordered it on {weekday}.",
        "Yes, the address is correct.",
        "Sure, one moment.",
        "I just sent the photos.",
        "Yes, that's the one.",
        "Can you check again please?",
        "Do you need anything else from me?",
        "You can call me on 555-01{nn} if that's easier.",
    ),
    "positive": (
        "That worked, thanks!",
        "Perfect, thank you so much!",
        "Amazing, thank you for the quick help!",
        "Great, it's working now. Thank you!",
        "Thanks {agent}, you've been really helpful!",
        "Brilliant, thanks for sorting this out so fast.",
    ),
}

ACKS = (
    "thanks",
    "ok",
    "thank you!",
    "great, thanks",
    "Thanks!",
    "ok thanks",
    "thank you",
    "Thank you!",
    "thx",
    "👍",
    "great",
    "perfect, thanks",
    "ty",
    "awesome, thanks!",
    "Thanks 🙏",
    "ok 👍",
    "cool, thanks",
)
NEUTRAL_ACKS = ("ok", "sure", "yes", "one sec", "ok", "yes please")

MIXED_JOINS = (" However, ", " But ", " Unfortunately ")

# --- English, agent side ------------------------------------------------------------------

AGENT = {
    "email_greeting": (
        "Thank you for contacting Acme Support.",
        "Thanks for your email.",
        "Thank you for reaching out to us about this.",
        "Thanks for getting in touch, and sorry for the slow reply.",
    ),
    "bot": (
        "Hi there! 👋 Thanks for contacting Acme Support. An agent will be with you shortly.",
        "Thanks for your message! Our typical reply time is under 5 minutes.",
        "Hi! I'm Acme's virtual assistant. Let me connect you with an agent.",
    ),
    "greeting": (
        "Hi {name}, thanks for reaching out! Let me look into this for you.",
        "Hi {name}, I'm sorry to hear about this. I'll check it right away.",
        "Hello! Thanks for contacting Acme Support. How can I help you today?",
        "Hi there, thanks for getting in touch. Let me take a look.",
        "Thanks for your patience, {name}. I'm looking into this now.",
    ),
    "apology": (
        "I'm really sorry about this, {name}. I completely understand your frustration.",
        "I'm sorry for the inconvenience. Let me make this right.",
        "I sincerely apologise for the trouble. I'll sort this out for you now.",
        "I understand how frustrating this must be, and I'm sorry.",
    ),
    "ask_info": (
        "Could you please share your order number so I can look into this?",
        "Can you confirm the email address on your account?",
        "Could you send us a photo of the item?",
        "Which device and app version are you using?",
        "Can you confirm your shipping address for me?",
    ),
    "troubleshoot": (
        "Could you try logging out, clearing the app cache and logging back in?",
        "Please update the app to the latest version and restart your phone.",
        "Could you try a different browser or a private window?",
        "Please try removing the card from your account and adding it again.",
    ),
    "escalation": (
        "I'm sorry that didn't work. I've escalated this to our specialist team, "
        "and they'll contact you within 24 hours.",
        "I've passed this on to my supervisor, who will get back to you by email today.",
        "I understand. I've raised this as a priority case and we'll update you tomorrow.",
    ),
    "closing": (
        "You're welcome! Is there anything else I can help you with?",
        "Glad I could help! Have a great day 🙂",
        "Thanks for your patience, {name}. Have a wonderful day!",
        "Happy to help! 😊",
        "You're very welcome. Take care!",
        "Thanks for contacting Acme Support!",
    ),
    "update": (
        "Thanks, I can see your order now.",
        "Thanks for the details, one moment please.",
        "Thanks for confirming. I'm checking this with the warehouse now.",
        "I'm still looking into this, thanks for your patience.",
        "Got it, thank you. Let me check with the team.",
    ),
    "proactive": (
        "Hi {name}, your order #{order} has shipped! Track it at https://acme.example/track/{order}",
        "Hi {name}, we're sorry, your order #{order} is delayed by a few days. "
        "We'll keep you updated.",
    ),
    "dm": (
        "Sorry to hear that! Please send us a DM with your order number and we'll take a look.",
        "We'd like to help. Can you DM us the email on your account?",
    ),
}

RESOLUTIONS = {
    "refund": (
        "I've processed a full refund for order #{order}. You should see it within 5-7 "
        "business days.",
        "I can see the refund was issued on our side. It can take up to 10 business days to "
        "show on your statement.",
    ),
    "delivery": (
        "I've checked with the carrier and your package is on its way. It should arrive within "
        "2 business days.",
        "I've sent out a replacement with express shipping, free of charge.",
    ),
    "login": (
        "I've sent a password reset link to the email on your account. Please check your spam "
        "folder too.",
        "I've unlocked your account. You should be able to log in now.",
    ),
    "billing": (
        "I can confirm the duplicate charge and I've refunded it. It'll show within 3-5 "
        "business days.",
        "That charge is a temporary authorisation and will drop off automatically in a few days.",
    ),
    "damaged": (
        "I'm sending a replacement today at no cost, and there's no need to return the damaged "
        "one.",
        "I've issued a full refund for the damaged item.",
    ),
    "subscription": (
        "I've cancelled your subscription and refunded the last payment.",
        "Your subscription is now paused until next month.",
    ),
    "app_crash": (
        "Our team released a fix in version 5.2.1. Please update the app from the store.",
        "Thanks for reporting this. Our developers are aware and a fix is on the way.",
    ),
    "wrong_item": (
        "I've arranged for the correct item to be sent out today, and you can keep the wrong one.",
    ),
    "return": (
        "I've sent a new prepaid return label to your email.",
        "Your return has been received and your refund is being processed.",
    ),
    "promo": (
        "I've applied the discount to your order manually and refunded the difference.",
        "I've added a 15% voucher to your account for your next order.",
    ),
}

# --- E-mail furniture ---------------------------------------------------------------------

EMAIL_GREETINGS = ("Hi,", "Hello,", "Hi there,", "Hello Acme team,", "Dear Support,", "Hi team,")
EMAIL_SIGNOFFS = ("Thanks,", "Thank you,", "Regards,", "Best,", "Kind regards,", "Cheers,")
EMAIL_EXTRA = (
    "I've been a customer for a long time and usually everything works fine, so I'm not sure "
    "what happened this time.",
    "I need this sorted before the weekend because it was meant to be a birthday present.",
    "I tried the help centre and the FAQ but couldn't find an answer to this.",
    "I also tried calling but was on hold for over 30 minutes before the line dropped.",
    "Please reply to this email rather than calling, as I'm at work during the day.",
    "I've attached a screenshot of the confirmation page for reference.",
)
SIGNATURES = (
    "-- \n{first} {last}\nSent from my iPhone",
    "Sent from my iPhone",
    "Get Outlook for Android",
    "-- \n{first} {last}\nOperations Manager\nNorthwind Traders\n+1 555-01{nn}\n\n"
    "CONFIDENTIALITY NOTICE: This email and any attachments are confidential and intended "
    "solely for the addressee. If you have received this email in error, please notify the "
    "sender and delete it.",
    "{first}",
    "{first} {last}\n+1 555-01{nn}",
    "-- \n{first} {last}\nSent from Mail for Windows",
)
AGENT_SIGNATURE = "Best regards,\n{agent}\nAcme Support\nhttps://help.acme.example"
SUPPORT_ADDRESS = "Acme Support <support@acme.example>"

# --- Other languages ----------------------------------------------------------------------
# One small bank per language: enough for realistic, varied sentences, not a full inbox.

LANGUAGES = {
    "es": {
        "but": (" Pero ", " Sin embargo, "),
        "subjects": ("Pedido {order}", "Problema con mi pedido", "Reembolso"),
        "openers_negative": {
            "refund": (
                "Devolví el pedido #{order} hace {n} semanas y todavía no he recibido el "
                "reembolso.",
                "¿Dónde está mi reembolso? Me dijeron 5 días y ya van {n} semanas.",
            ),
            "delivery": (
                "Mi pedido #{order} nunca llegó.",
                "El seguimiento dice entregado pero NO hay ningún paquete en mi casa.",
            ),
            "login": ("No puedo entrar en mi cuenta, dice que la contraseña es incorrecta.",),
            "billing": ("Me han cobrado dos veces el pedido #{order}.",),
            "damaged": ("El pedido #{order} llegó roto, la caja estaba aplastada.",),
            "subscription": ("Cancelé mi suscripción el mes pasado y me siguen cobrando.",),
        },
        "openers_neutral": {
            "refund": ("Hola, quisiera solicitar el reembolso del pedido #{order}.",),
            "delivery": ("Hola, ¿cuándo llegará mi pedido #{order}?",),
            "login": ("¿Cómo puedo cambiar mi contraseña?",),
            "billing": ("¿Me pueden enviar la factura del pedido #{order}?",),
            "damaged": ("Uno de los artículos del pedido #{order} llegó con un pequeño golpe.",),
            "subscription": ("¿Cómo puedo pausar mi suscripción un mes?",),
        },
        "positive": ("¡Hola! Me encanta mi pedido, muchas gracias.", "Siempre un gran servicio."),
        "emotions": {
            "angry": (
                "Esto es inaceptable.",
                "Estoy MUY enfadado.",
                "Quiero hablar con un responsable.",
            ),
            "frustrated": ("Es bastante frustrante.", "No estoy nada contento con esto."),
            "neutral": ("Gracias.", "Quedo a la espera."),
            "positive": ("¡Muchas gracias!",),
        },
        "followups": {
            "angry": (
                "Sigo sin noticias. ¡Es una vergüenza!",
                "Ya les di el número de pedido DOS veces.",
                "No pienso volver a comprar aquí.",
            ),
            "frustrated": ("Lo he probado y sigue sin funcionar.", "Llevo {n} días esperando."),
            "neutral": (
                "Es el pedido {order}.",
                "Mi correo es {email}.",
                "Sí, la dirección es correcta.",
            ),
            "positive": ("Perfecto, ¡muchas gracias!", "Ya funciona, gracias por la ayuda."),
        },
        "acks": ("gracias", "ok", "¡muchas gracias!", "vale, gracias", "perfecto"),
        "agent": {
            "email_greeting": ("Gracias por tu mensaje.",),
            "greeting": (
                "Hola {name}, gracias por contactarnos. Lo reviso ahora mismo.",
                "¡Hola! Gracias por escribirnos. ¿En qué podemos ayudarte?",
            ),
            "apology": ("Lamentamos mucho las molestias, {name}. Entiendo tu frustración.",),
            "ask_info": ("¿Podrías indicarnos el número de pedido?",),
            "resolution": (
                "Hemos procesado el reembolso completo. Lo verás en 5-7 días hábiles.",
                "Te hemos enviado un reemplazo sin coste.",
            ),
            "escalation": (
                "He escalado el caso a nuestro equipo especializado, te contactarán en 24 horas.",
            ),
            "closing": ("¡De nada! ¿Puedo ayudarte en algo más?", "¡Que tengas un buen día!"),
        },
        "greeting": ("Hola,", "Buenos días,"),
        "signoff": ("Gracias,", "Saludos,", "Un saludo,"),
        "device": "Enviado desde mi iPhone",
        "agent_signature": "Saludos,\n{agent}\nAtención al cliente de Acme",
        "quote": "El {dd} {mon} {yyyy}, a las {hh}:{mm}, {sender} escribió:",
        "months": (
            "ene",
            "feb",
            "mar",
            "abr",
            "may",
            "jun",
            "jul",
            "ago",
            "sept",
            "oct",
            "nov",
            "dic",
        ),
    },
    "de": {
        "but": (" Aber ", " Leider "),
        "subjects": ("Bestellung {order}", "Problem mit meiner Bestellung", "Erstattung"),
        "openers_negative": {
            "refund": (
                "Ich habe die Bestellung #{order} vor {n} Wochen zurückgeschickt und "
                "immer noch keine Erstattung erhalten.",
            ),
            "delivery": (
                "Meine Bestellung #{order} ist nie angekommen.",
                "Laut Sendungsverfolgung zugestellt, aber hier ist KEIN Paket.",
            ),
            "login": ("Ich kann mich nicht mehr in mein Konto einloggen.",),
            "billing": ("Mir wurde die Bestellung #{order} zweimal abgebucht.",),
            "damaged": ("Die Bestellung #{order} kam beschädigt an, der Karton war zerdrückt.",),
            "subscription": ("Ich habe mein Abo gekündigt und trotzdem wurde wieder abgebucht.",),
        },
        "openers_neutral": {
            "refund": (
                "Hallo, ich möchte eine Erstattung für die Bestellung #{order} beantragen.",
            ),
            "delivery": ("Hallo, wann wird meine Bestellung #{order} geliefert?",),
            "login": ("Wie kann ich mein Passwort zurücksetzen?",),
            "billing": ("Könnten Sie mir eine Rechnung für die Bestellung #{order} schicken?",),
            "damaged": ("Ein Artikel aus der Bestellung #{order} hat einen kleinen Kratzer.",),
            "subscription": ("Wie kann ich mein Abo für einen Monat pausieren?",),
        },
        "positive": (
            "Hallo! Ich bin sehr zufrieden mit meiner Bestellung.",
            "Ihr Service ist immer super.",
        ),
        "emotions": {
            "angry": (
                "Das ist absolut inakzeptabel.",
                "Ich bin SEHR verärgert.",
                "Ich möchte mit einem Vorgesetzten sprechen.",
            ),
            "frustrated": ("Das ist wirklich ärgerlich.", "Ich bin nicht zufrieden damit."),
            "neutral": ("Danke.", "Vielen Dank im Voraus."),
            "positive": ("Vielen Dank!",),
        },
        "followups": {
            "angry": (
                "Immer noch nichts. Das ist lächerlich!",
                "Ich habe Ihnen die Bestellnummer schon ZWEIMAL gegeben.",
                "Ich bestelle nie wieder bei Ihnen.",
            ),
            "frustrated": (
                "Das habe ich versucht, es funktioniert immer noch nicht.",
                "Ich warte jetzt schon {n} Tage.",
            ),
            "neutral": (
                "Es ist die Bestellung {order}.",
                "Meine E-Mail ist {email}.",
                "Ja, die Adresse stimmt.",
            ),
            "positive": ("Perfekt, vielen Dank!", "Jetzt funktioniert es, danke für die Hilfe."),
        },
        "acks": ("danke", "ok", "vielen Dank!", "super, danke", "alles klar"),
        "agent": {
            "email_greeting": ("Vielen Dank für Ihre Nachricht.",),
            "greeting": (
                "Hallo {name}, danke für Ihre Nachricht. Ich schaue mir das sofort an.",
                "Hallo! Danke, dass Sie uns kontaktieren. Wie können wir helfen?",
            ),
            "apology": ("Das tut mir sehr leid, {name}. Ich verstehe Ihren Ärger.",),
            "ask_info": ("Könnten Sie mir bitte Ihre Bestellnummer nennen?",),
            "resolution": (
                "Ich habe die volle Erstattung veranlasst. Sie sehen sie in 5-7 Werktagen.",
                "Wir haben Ihnen kostenlos Ersatz geschickt.",
            ),
            "escalation": (
                "Ich habe den Fall an unser Fachteam weitergeleitet, es meldet sich "
                "innerhalb von 24 Stunden.",
            ),
            "closing": ("Gern geschehen! Kann ich sonst noch helfen?", "Einen schönen Tag noch!"),
        },
        "greeting": ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"),
        "signoff": ("Danke,", "Viele Grüße,", "Mit freundlichen Grüßen,"),
        "device": "Von meinem iPhone gesendet",
        "agent_signature": "Viele Grüße,\n{agent}\nAcme Kundenservice",
        "quote": "Am {dd}. {mon} {yyyy} um {hh}:{mm} schrieb {sender}:",
        "months": (
            "Jan.",
            "Feb.",
            "März",
            "Apr.",
            "Mai",
            "Juni",
            "Juli",
            "Aug.",
            "Sept.",
            "Okt.",
            "Nov.",
            "Dez.",
        ),
    },
    "fr": {
        "but": (" Mais ", " Par contre, "),
        "subjects": ("Commande {order}", "Problème avec ma commande", "Remboursement"),
        "openers_negative": {
            "refund": (
                "J'ai renvoyé la commande #{order} il y a {n} semaines et je n'ai "
                "toujours pas été remboursé.",
            ),
            "delivery": (
                "Ma commande #{order} n'est jamais arrivée.",
                "Le suivi indique livré mais il n'y a AUCUN colis chez moi.",
            ),
            "login": ("Je n'arrive plus à me connecter à mon compte.",),
            "billing": ("J'ai été débité deux fois pour la commande #{order}.",),
            "damaged": ("La commande #{order} est arrivée abîmée, le carton était écrasé.",),
            "subscription": ("J'ai résilié mon abonnement mais j'ai encore été prélevé.",),
        },
        "openers_neutral": {
            "refund": ("Bonjour, je voudrais demander le remboursement de la commande #{order}.",),
            "delivery": ("Bonjour, quand ma commande #{order} sera-t-elle livrée ?",),
            "login": ("Comment puis-je réinitialiser mon mot de passe ?",),
            "billing": ("Pourriez-vous m'envoyer la facture de la commande #{order} ?",),
            "damaged": ("Un article de la commande #{order} a une petite rayure.",),
            "subscription": ("Comment mettre mon abonnement en pause pendant un mois ?",),
        },
        "positive": (
            "Bonjour ! J'adore ma commande, merci beaucoup.",
            "Toujours un excellent service.",
        ),
        "emotions": {
            "angry": (
                "C'est inadmissible.",
                "Je suis TRÈS mécontent.",
                "Je veux parler à un responsable.",
            ),
            "frustrated": ("C'est vraiment agaçant.", "Je ne suis pas satisfait."),
            "neutral": ("Merci.", "Merci d'avance."),
            "positive": ("Merci beaucoup !",),
        },
        "followups": {
            "angry": (
                "Toujours rien. C'est scandaleux !",
                "Je vous ai déjà donné le numéro de commande DEUX fois.",
                "Je ne commanderai plus jamais chez vous.",
            ),
            "frustrated": (
                "J'ai essayé et ça ne marche toujours pas.",
                "Ça fait {n} jours que j'attends.",
            ),
            "neutral": (
                "C'est la commande {order}.",
                "Mon e-mail est {email}.",
                "Oui, l'adresse est correcte.",
            ),
            "positive": (
                "Parfait, merci beaucoup !",
                "Ça marche maintenant, merci pour votre aide.",
            ),
        },
        "acks": ("merci", "ok", "merci beaucoup !", "super, merci", "d'accord"),
        "agent": {
            "email_greeting": ("Merci pour votre message.",),
            "greeting": (
                "Bonjour {name}, merci de nous avoir contactés. Je regarde tout de suite.",
                "Bonjour ! Merci pour votre message. Comment pouvons-nous vous aider ?",
            ),
            "apology": ("Nous sommes vraiment désolés, {name}. Je comprends votre frustration.",),
            "ask_info": ("Pourriez-vous nous indiquer votre numéro de commande ?",),
            "resolution": (
                "J'ai effectué le remboursement complet. Il apparaîtra sous 5 à 7 jours ouvrés.",
                "Nous vous avons envoyé un remplacement gratuitement.",
            ),
            "escalation": (
                "J'ai transmis votre dossier à notre équipe spécialisée, elle vous "
                "recontactera sous 24 heures.",
            ),
            "closing": ("Avec plaisir ! Puis-je vous aider pour autre chose ?", "Bonne journée !"),
        },
        "greeting": ("Bonjour,", "Madame, Monsieur,"),
        "signoff": ("Merci,", "Cordialement,", "Bien à vous,"),
        "device": "Envoyé de mon iPhone",
        "agent_signature": "Cordialement,\n{agent}\nService client Acme",
        "quote": "Le {dd} {mon} {yyyy} à {hh}:{mm}, {sender} a écrit :",
        "months": (
            "janv.",
            "févr.",
            "mars",
            "avr.",
            "mai",
            "juin",
            "juil.",
            "août",
            "sept.",
            "oct.",
            "nov.",
            "déc.",
        ),
    },
    "pt": {
        "but": (" Mas ", " Porém, "),
        "subjects": ("Pedido {order}", "Problema com meu pedido", "Reembolso"),
        "openers_negative": {
            "refund": ("Devolvi o pedido #{order} há {n} semanas e ainda não recebi o reembolso.",),
            "delivery": ("Meu pedido #{order} nunca chegou.",),
            "login": ("Não consigo entrar na minha conta.",),
            "billing": ("Fui cobrado duas vezes pelo pedido #{order}.",),
            "damaged": ("O pedido #{order} chegou danificado.",),
            "subscription": ("Cancelei minha assinatura e continuam me cobrando.",),
        },
        "openers_neutral": {
            "refund": ("Olá, gostaria de pedir o reembolso do pedido #{order}.",),
            "delivery": ("Olá, quando meu pedido #{order} vai ser entregue?",),
            "login": ("Como faço para redefinir minha senha?",),
            "billing": ("Podem me enviar a nota fiscal do pedido #{order}?",),
            "damaged": ("Um item do pedido #{order} veio com um arranhão.",),
            "subscription": ("Como posso pausar minha assinatura por um mês?",),
        },
        "positive": ("Olá! Adorei meu pedido, muito obrigado.", "Sempre um ótimo atendimento."),
        "emotions": {
            "angry": ("Isso é inaceitável.", "Estou MUITO irritado."),
            "frustrated": ("Isso é bem frustrante.", "Não estou nada satisfeito."),
            "neutral": ("Obrigado.", "Fico no aguardo."),
            "positive": ("Muito obrigado!",),
        },
        "followups": {
            "angry": ("Até agora nada. Um absurdo!", "Nunca mais compro com vocês."),
            "frustrated": (
                "Já tentei isso e continua sem funcionar.",
                "Estou esperando há {n} dias.",
            ),
            "neutral": ("É o pedido {order}.", "Meu e-mail é {email}."),
            "positive": ("Perfeito, muito obrigado!", "Agora funcionou, obrigado pela ajuda."),
        },
        "acks": ("obrigado", "ok", "muito obrigada!", "beleza, obrigado"),
        "agent": {
            "email_greeting": ("Obrigado pela sua mensagem.",),
            "greeting": ("Olá {name}, obrigado pelo contato. Vou verificar agora mesmo.",),
            "apology": ("Sentimos muito pelo transtorno, {name}.",),
            "ask_info": ("Pode nos informar o número do pedido?",),
            "resolution": ("Processamos o reembolso total. Ele aparecerá em 5 a 7 dias úteis.",),
            "escalation": (
                "Encaminhei o caso para a equipe especializada, que entrará em "
                "contato em 24 horas.",
            ),
            "closing": ("Por nada! Posso ajudar em mais alguma coisa?", "Tenha um ótimo dia!"),
        },
        "greeting": ("Olá,", "Bom dia,"),
        "signoff": ("Obrigado,", "Atenciosamente,", "Abraços,"),
        "device": "Enviado do meu iPhone",
        "agent_signature": "Atenciosamente,\n{agent}\nAtendimento Acme",
        "quote": "Em {dd} de {mon} de {yyyy} às {hh}:{mm}, {sender} escreveu:",
        "months": (
            "jan.",
            "fev.",
            "mar.",
            "abr.",
            "mai.",
            "jun.",
            "jul.",
            "ago.",
            "set.",
            "out.",
            "nov.",
            "dez.",
        ),
    },
}
LANGUAGE_WEIGHTS = {"es": 40, "de": 25, "fr": 25, "pt": 10}

# --- Planted cases ------------------------------------------------------------------------
# Texts the generator plants on purpose so that tests can count what the warehouse does with
# them (see ``planted_cases`` in the generator). The e-mails below are built so that VADER
# scores the raw e-mail with the opposite polarity of the new text alone; keep each new text
# short (its preview must hold all of it) and each quoted block much stronger than it. VADER
# reads a negation ("not", "never", "n't") up to three words back, across sentence ends, so
# no sentiment word comes in the first three words of a sentence here.

# Positive new text of a customer whose quoted history is their own earlier angry e-mail.
RELIEVED = (
    "Update on my email below: everything arrived this morning and it's perfect. "
    "Thank you so much, really great service!",
    "Good news, it's all sorted now and I'm really happy with the result. Thank you, "
    "I really appreciate your help!",
    "Quick update: order #{order} turned up today and everything is great. Thanks, lovely "
    "service as always!",
    "All good now, the refund came through this morning. Thanks so much for your help, "
    "much appreciated!",
    "It's working perfectly now. Thank you for the help, much appreciated!",
    "{agent} sorted it all out for me, brilliant work. Thank you, I'm a happy customer again!",
    "Just to let you know it's resolved, thanks! Excellent support from your team, very grateful.",
)
# The customer's earlier e-mail, quoted under a relieved one: long and furious.
RANTS = (
    "This is absolutely unacceptable and I am furious.",
    "Your customer service is the worst and most useless I have ever dealt with.",
    "Right now I feel cheated and I am disgusted by how I have been treated.",
    "It is a disgrace, a scam and a total rip-off.",
    "I am extremely angry and very disappointed.",
    "This whole experience has been horrible and stressful.",
    "So far I have wasted hours of my life on this and I am sick of your useless excuses.",
    "Your staff are rude, incompetent and clearly do not care.",
    "If this is not fixed today I will leave terrible, angry reviews everywhere.",
    "As a customer I hate being lied to, and that is exactly what has happened here.",
    "It has been shameful, pathetic service from start to finish.",
)
# Negative new text of a customer who quotes an effusive agent reply or signs off cheerfully.
COMPLAINTS = (
    "This is still broken and I'm really disappointed. Nothing you suggested has worked.",
    "It is still not fixed after all this time. I'm frustrated and fed up with this useless "
    "service.",
    "The replacement arrived damaged as well. This is awful and I'm very upset.",
    "I'm still waiting for my refund and this is getting ridiculous. Very disappointed and "
    "annoyed.",
    "Your fix failed completely and I wasted my whole evening on this.",
    "This is not good enough. The problem is back and I'm upset.",
    "The charge is still there and I'm furious. This is unacceptable.",
)
COMPLAINT_SIGNOFFS = ("Regards,", "")
# An agent's cheerful reply, as a complaining customer's e-mail quotes it.
PRAISE = (
    "Great news! I'm delighted to let you know that everything has been sorted and you're all set.",
    "Thank you so much for your patience and kindness, it has been a real pleasure helping you.",
    "We truly appreciate you as a valued customer and we're thrilled to have you with us!",
    "I'm so glad we could help, and I hope you love your order as much as we do!",
    "Your feedback means the world to us and we're happy it all worked out perfectly.",
    "It's wonderful to hear from you, and I'm excited that everything is working great now.",
)
PRAISE_CLOSINGS = (
    "Have a wonderful, fantastic day! 😊",
    "Wishing you a brilliant week ahead, enjoy!",
    "Thanks again, and have a lovely, happy weekend!",
)
# A cheerful closing block under a customer's signature ("-- " line first, so it is one).
POSITIVE_SIGNATURES = (
    "-- \n{first} {last}\n\nHave a wonderful, fantastic day! Best wishes and many thanks, "
    "and keep smiling - you're awesome! 😊",
    '-- \n{first} {last}\nProud volunteer, Happy Paws Rescue\n"Love, laugh and enjoy every '
    'beautiful moment - life is wonderful!" Thank you for your kind support ❤️',
    "-- \n{first}\n\nWarmest wishes, lots of love and gratitude. Stay happy, healthy and "
    "blessed, and keep smiling! Have a great day 🌻",
    "-- \n{first} {last}\nCustomer Happiness Lead, Sunshine Bakery\nSpreading joy, smiles "
    "and delicious treats - thank you for being awesome! Have a lovely day!",
    "-- \n{first} {last}\n\nWishing you joy, peace, love and a truly wonderful, happy day! "
    "Kind regards and many thanks. 🌞",
)

# Clearly polar sentences for the customer messages of planted conversations (a customer who
# turns, a conversation that drops or recovers, the anomalous day of a channel), so that VADER
# reads each message with its mood's polarity whatever else it says: an angry message opens
# and ends with one (a tweet's cut at 280 characters keeps the first; a "but" in between
# halves what comes before it), a positive one ends with one. None holds a negation, which
# VADER carries into the next words, and no sentiment word comes in the first three words (the
# previous sentence may end in one).
PLANTED_ANGRY = (
    "This whole thing is a disgrace and I am angry.",
    "Frankly I am so angry and upset with this awful service.",
    "This whole experience has been horrible and stressful.",
    "So far this has been a terrible, useless service.",
    "As a customer I am disgusted and extremely disappointed.",
    "Quite frankly this is a horrible, stressful mess.",
    "All of this is awful and I am really angry.",
)
PLANTED_POSITIVE = (
    "All in all, your team has been wonderful and I am very happy.",
    "Once again, you have all been excellent, thank you so much!",
    "I am so happy with the help, you are all wonderful!",
    "As always, many thanks for the great and friendly help!",
    "The whole team has been brilliant, I really appreciate it!",
    "All of you have been fantastic and I love the service!",
)

# Personal data: sentences that carry one item, per language and kind, and the fictional
# values that fill them. Phones are in ranges reserved for drama or valid test ranges
# (US 555-01xx, Ofcom's 020 7946 0xxx, ARCEP's fiction blocks, Germany's drama blocks), cards
# are the card networks' published test numbers, addresses are common street names.
PERSONAL_SENTENCES = {
    "en": {
        "email": (
            "You can reach me at {value}.",
            "Please use my other email, {value}, from now on.",
            "My work address is {value} if that's easier.",
        ),
        "phone": (
            "You can reach me on {value}.",
            "My number is {value}, call me any time after 5pm.",
            "Please call me back on {value}.",
        ),
        "card": (
            "My card ending {last4} was charged twice: {value}.",
            "The card I used is {value}.",
            "I paid with my card {value}, can you check it?",
        ),
        "iban": (
            "Please send the refund to my bank account, IBAN {value}.",
            "My IBAN is {value}.",
        ),
        "address": (
            "Please send it to {value}{place}.",
            "My address is {value}{place}.",
            "The parcel should go to {value}{place}, not the old address.",
        ),
    },
    "es": {
        "email": ("Podéis escribirme a {value}.", "Mi otro correo es {value}."),
        "card": ("Me cobraron dos veces en la tarjeta {value}.", "Pagué con la tarjeta {value}."),
        "iban": ("Mi IBAN es {value}.", "Devolvedme el dinero a la cuenta {value}."),
        "address": ("Enviadlo a {value}{place}, por favor.", "Mi dirección es {value}{place}."),
    },
    "de": {
        "email": ("Sie erreichen mich unter {value}.", "Meine andere E-Mail ist {value}."),
        "phone": ("Sie erreichen mich unter {value}.", "Rufen Sie mich bitte unter {value} an."),
        "card": ("Meine Karte {value} wurde zweimal belastet.", "Ich habe mit {value} bezahlt."),
        "iban": ("Bitte erstatten Sie den Betrag auf mein Konto {value}.", "Meine IBAN: {value}."),
        "address": (
            "Bitte schicken Sie es an {value}{place}.",
            "Meine Adresse ist {value}{place}.",
        ),
    },
    "fr": {
        "email": ("Vous pouvez m'écrire à {value}.", "Mon autre adresse e-mail est {value}."),
        "phone": ("Vous pouvez me joindre au {value}.", "Mon numéro est le {value}."),
        "card": ("Ma carte {value} a été débitée deux fois.", "J'ai payé avec la carte {value}."),
        "iban": ("Merci de me rembourser sur mon compte {value}.", "Mon IBAN : {value}."),
        "address": (
            "Merci de l'envoyer au {value}{place}.",
            "Mon adresse est le {value}{place}.",
        ),
    },
    "pt": {
        "email": ("Podem me escrever em {value}.", "Meu outro e-mail é {value}."),
        "card": ("Fui cobrado duas vezes no cartão {value}.", "Paguei com o cartão {value}."),
        "iban": ("Meu IBAN é {value}.",),
        "address": ("Por favor, enviem para {value}{place}.", "Meu endereço é {value}{place}."),
    },
}
# Kinds of personal data per language, with weights; regions of phones and addresses.
PERSONAL_KINDS = {
    "en": {"email": 25, "phone": 30, "card": 15, "iban": 10, "address": 20},
    "es": {"email": 30, "card": 20, "iban": 20, "address": 30},
    "de": {"email": 20, "phone": 30, "card": 15, "iban": 15, "address": 20},
    "fr": {"email": 20, "phone": 30, "card": 15, "iban": 15, "address": 20},
    "pt": {"email": 30, "card": 20, "iban": 20, "address": 30},
}
PERSONAL_REGIONS = {  # phone and address regions an English speaker writes, most often first
    "phone": ("US", "US", "US", "GB", "FR", "DE"),
    "address": ("US", "US", "GB", "FR", "DE", "ES"),
    "iban": ("GB", "DE", "FR", "ES", "NL"),
}
LANGUAGE_REGION = {"es": "ES", "de": "DE", "fr": "FR", "pt": "PT"}
EMAIL_DOMAINS = ("example.com", "example.org")
US_AREA_CODES = ("201", "202", "206", "212", "305", "312", "404", "415", "512", "617", "713")
# Fixed-line blocks reserved for fiction: (national prefix as written, digits to add).
FICTION_PHONES = {
    "GB": (("020 7946 0", 3), ("0161 496 0", 3), ("0113 496 0", 3)),
    "FR": (("01 99 00", 4), ("02 61 91", 4), ("03 53 01", 4), ("04 65 71", 4), ("05 36 49", 4)),
    "DE": (("030 23125 ", 3), ("069 90009 ", 3), ("040 66969 ", 3), ("089 99998 ", 3)),
}
TEST_CARDS = (
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4000056655665556",
    "5555555555554444",
    "5105105105105100",
    "5200828282828210",
    "6011111111111117",
    "3566002020360505",
    "378282246310005",
)
STREETS = {
    "US": ("Baker Street", "Elm Street", "Maple Avenue", "Oak Lane", "Park Avenue"),
    "GB": ("Baker Street", "Station Road", "Church Lane", "Mill Road", "High Street"),
    "FR": ("rue de la Paix", "rue Victor Hugo", "avenue Jean Jaurès", "boulevard Voltaire"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Lindenallee"),
    "ES": ("Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Calle del Sol"),
    "PT": ("Rua Augusta", "Rua do Ouro", "Avenida da Liberdade", "Rua das Flores"),
}
PLACES = {
    "US": (", Springfield, IL 62704", ", Portland, OR 97205", ", Austin, TX 78701", ""),
    "GB": (", London NW1 6XE", ", Manchester M1 2AB", ", Leeds LS1 4DY", ""),
    "FR": (", 75002 Paris", ", 69002 Lyon", ", 33000 Bordeaux", ""),
    "DE": (", 10115 Berlin", ", 80331 München", ", 50667 Köln", ""),
    "ES": (", 28013 Madrid", ", 08002 Barcelona", ", 41001 Sevilla", ""),
    "PT": (", 1100-053 Lisboa", ", 4000-322 Porto", ""),
}
IBAN_BANKS = {  # national bank identifiers (fictional-looking, valid in form)
    "GB": ("WEST", "NWBK", "BARC", "MIDL"),
    "DE": ("37040044", "10020030", "50010517", "20041133"),
    "FR": ("20041", "30006", "10107", "30004"),
    "ES": ("2100", "0049", "0182", "2038"),
    "NL": ("ABNA", "INGB", "RABO", "TRIO"),
}
