# الصفحات العامة والدخول: الرئيسية والخدمات وتسجيل الدخول وإنشاء الحساب وإعادة تعيين كلمة المرور وتأكيد البريد ورمز التحقق.

email = البريد الإلكتروني
password = كلمة المرور
forgot-password-link = نسيت كلمة المرور؟
no-account-yet = ليس لديك حساب بعد؟
session-ended = انتهت جلستك. سجّل الدخول لتتابع من حيث توقفت.
session-ended-form-kept = انتهت جلستك قبل إرسال النموذج. سجّل الدخول وأرسله مجددًا: ما كتبته محفوظ (عدا كلمات المرور).
session-ended-form-lost = انتهت جلستك قبل إرسال النموذج. سجّل الدخول واملأه مجددًا.
foreign-form-title = نموذج من موقع آخر
foreign-form-text = لم يُرسل هذا النموذج من هذه اللوحة.
log-in-here = سجّل الدخول هنا
wrong-login = البريد الإلكتروني أو كلمة المرور غير صحيحة
resend-title = أرسل نموذجك مجددًا
resend-text = كانت جلستك قد انتهت عند إرسال هذا النموذج. لقد سجّلت الدخول مجددًا: هل ترسله الآن؟
send = إرسال
do-not-send = لا ترسل
reset-title = إعادة تعيين كلمة المرور
reset-intro = أدخل بريد حسابك: نرسل إليه رابطًا لاختيار كلمة مرور جديدة.
send-link = أرسل الرابط
back-to-login = العودة إلى تسجيل الدخول
new-password-title = اختر كلمة مرور جديدة
new-password = كلمة المرور الجديدة
new-password-hint = 8 أحرف على الأقل. تنتهي كل جلسات الحساب عند تغييرها.
set-password = حفظ كلمة المرور
password-changed-title = تم تغيير كلمة المرور
password-changed-text = تم تغيير كلمة المرور وانتهت كل جلسات الحساب.
email-confirmed-title = تم تأكيد البريد
email-confirmed-text = شكرًا: تم تأكيد بريدك ويمكنك تسجيل الدخول.
link-not-valid = الرابط غير صالح
resend-confirmation = أعد إرسال رابط التأكيد
confirm-email-title = أكّد بريدك الإلكتروني
code-title = رمز التحقق بخطوتين
code-intro = أدخل الرمز المكوّن من 6 أرقام الذي يعرضه تطبيق المصادقة لهذه اللوحة، أو أحد رموزك الاحتياطية.
code = الرمز
cancel = إلغاء
backup-codes-title = رموزك الاحتياطية
backup-codes-text = يصلح كل رمز مرة واحدة بدلًا من رمز التطبيق إذا فقدت هاتفك. احفظها في مكان آمن: لن تُعرض إلا الآن.
two-factor-required = تشترط هذه اللوحة التحقق بخطوتين للمشرفين: فعّله أدناه لفتح صفحات الإدارة.
security = الأمان
two-factor-title = التحقق بخطوتين
on = مفعّل
off = غير مفعّل
make-backup-codes = إنشاء رموز احتياطية جديدة
turn-off = إيقاف
turn-two-factor-off = إيقاف التحقق بخطوتين
enrol-step-scan = امسح رمز QR هذا بالتطبيق، أو اكتب المفتاح يدويًا.
enrol-step-code = أدخل الرمز الذي يعرضه التطبيق وكلمة مرورك.
qr-alt = رمز QR لمفتاح التحقق بخطوتين
code-from-app = الرمز من التطبيق
turn-two-factor-on = تفعيل التحقق بخطوتين
panel-policy = سياسة اللوحة
email-off-hint = البريد معطّل في هذه اللوحة (لا يوجد خادم SMTP): لا يمكن إرسال روابط التأكيد ولا إعادة تعيين كلمة المرور.
save = حفظ
two-factor-now-on = التحقق بخطوتين مفعّل. احتفظ برموزك الاحتياطية.
two-factor-now-off = التحقق بخطوتين متوقف.
backup-codes-renewed = رموز احتياطية جديدة: الرموز القديمة لم تعد تعمل.
policy-saved = تم حفظ السياسة.
check-inbox-text = أرسلنا رابطًا إلى { $email }. افتحه لتأكيد بريدك ثم سجّل الدخول. يصلح لمدة يومين.
two-factor-on-text = يطلب تسجيل الدخول والعمليات المالية والأمنية رمزًا من تطبيق المصادقة.
backup-codes-left = { $n ->
    [zero] لم يبقَ أي رمز احتياطي.
    [one] بقي رمز احتياطي واحد.
    [two] بقي رمزان احتياطيان.
    [few] بقيت { $n } رموز احتياطية.
   *[other] بقي { $n } رمزًا احتياطيًا.
}
reset-link-sent = إذا كان هناك حساب بهذا البريد، فرابط إعادة تعيين كلمة المرور في الطريق إليه. يصلح مرة واحدة لمدة ساعة.
policy-admin-two-factor = اشتراط التحقق بخطوتين على كل مشرف
policy-confirm-email = يؤكد المسجّلون الجدد بريدهم قبل أن يتمكنوا من الدخول
two-factor-off-text = احمِ حسابك برمز من تطبيق مصادقة (Google Authenticator أو Authy أو 1Password …).
totp-key = المفتاح:
faq = الأسئلة الشائعة
home-tagline = متابعون وإعجابات ومشاهدات لكل المنصات، تُسلَّم تلقائيًا.
create-account = إنشاء حساب
see-services = الخدمات والأسعار
what-we-sell = ما نبيعه
catalogue-empty = يجري تجهيز الكتالوج.
how-it-works = كيف يعمل
your-prices = أسعارك
search-services = ابحث عن خدمة أو رقمها
search = بحث
platform = المنصة
all-platforms = كل المنصات
type = النوع
all-types = كل الأنواع
filter = تصفية
no-service-matches = لا توجد خدمة مطابقة.
show-all = عرض الكل
id = الرقم
service = الخدمة
rate-per-1000 = السعر لكل 1000
min-max = الحد الأدنى – الأقصى
refill = إعادة التعبئة
average-time = متوسط الوقت
description = الوصف
no-refill = بدون إعادة تعبئة
order = اطلب
home-services-count = { $n ->
    [one] خدمة واحدة
    [two] خدمتان
    [few] { $n } خدمات
   *[other] { $n } خدمة
}
home-orders-delivered = { $n } طلب مُسلَّم
home-api-for-resellers = API v2 للموزّعين
home-platform-figures = { $n ->
    [one] خدمة واحدة
    [two] خدمتان
    [few] { $n } خدمات
   *[other] { $n } خدمة
} · ابتداءً من { $min } { $currency } لكل 1000
how-funds = أضف رصيدًا
how-funds-text = إلى محفظتك.
how-order = اطلب
how-order-text = خدمة لرابطك: نبدأ خلال دقائق.
how-follow = تابعه مباشرة
how-follow-text = — تتحدث الحالة وعدد البداية والمتبقي تلقائيًا؛ وما لم يُسلَّم يُعاد إلى رصيدك.
prices-per-1000-in = الأسعار لكل 1000 بـ { $currency }
n-days = { $n ->
    [one] يوم واحد
    [two] يومان
    [few] { $n } أيام
   *[other] { $n } يومًا
}
n-ratings = { $n ->
    [one] تقييم واحد
    [two] تقييمان
    [few] { $n } تقييمات
   *[other] { $n } تقييمًا
}
n-orders = { $n } طلب

# The "Updates" feed (issue 20).
nav-updates = التحديثات
upd-title = تحديثات الأسعار والتوفر
upd-newest = الأحدث
upd-hint = كل تغيير في سعر خدمة أو توفرها، كما حدث.
upd-none = لم يتغير أي سعر أو توفر بعد.
upd-change = التغيير
upd-price-up = ارتفع السعر
upd-price-down = انخفض السعر
upd-available = متاحة مجددًا
upd-unavailable = لم تعد متاحة
