# Páginas públicas y acceso: inicio, servicios, inicio de sesión, registro, restablecer la contraseña, confirmación del correo, código de doble factor.

email = Correo electrónico
password = Contraseña
forgot-password-link = ¿Olvidaste tu contraseña?
no-account-yet = ¿Aún no tienes cuenta?
session-ended = Tu sesión ha terminado. Inicia sesión para seguir donde estabas.
session-ended-form-kept = Tu sesión terminó antes de enviar el formulario. Inicia sesión y envíalo de nuevo: lo que escribiste se conserva (salvo las contraseñas).
session-ended-form-lost = Tu sesión terminó antes de enviar el formulario. Inicia sesión y rellénalo de nuevo.
foreign-form-title = Formulario de otro sitio
foreign-form-text = Este formulario no se envió desde este panel.
log-in-here = Inicia sesión aquí
wrong-login = Correo o contraseña incorrectos
resend-title = Envía tu formulario de nuevo
resend-text = Tu sesión había terminado cuando enviaste este formulario. Has vuelto a iniciar sesión: ¿lo envías ahora?
send = Enviar
do-not-send = No enviar
reset-title = Restablecer tu contraseña
reset-intro = Escribe el correo de tu cuenta: le enviamos un enlace para elegir una contraseña nueva.
send-link = Enviar el enlace
back-to-login = Volver al inicio de sesión
new-password-title = Elige una contraseña nueva
new-password = Contraseña nueva
new-password-hint = Al menos 8 caracteres. Todas las sesiones de la cuenta terminan cuando cambia.
set-password = Guardar la contraseña
password-changed-title = Contraseña cambiada
password-changed-text = Tu contraseña ha cambiado y todas las sesiones de la cuenta han terminado.
email-confirmed-title = Correo confirmado
email-confirmed-text = Gracias: tu correo está confirmado y ya puedes iniciar sesión.
link-not-valid = Enlace no válido
resend-confirmation = Enviar de nuevo el enlace de confirmación
confirm-email-title = Confirma tu correo
code-title = Código de doble factor
code-intro = Escribe el código de 6 cifras que muestra tu aplicación de autenticación para este panel, o uno de tus códigos de respaldo.
code = Código
cancel = Cancelar
backup-codes-title = Tus códigos de respaldo
backup-codes-text = Cada uno sirve una vez en lugar de un código, si pierdes el teléfono. Guárdalos en un lugar seguro: solo se muestran ahora.
two-factor-required = Este panel exige la verificación en dos pasos a los administradores: actívala abajo para abrir las páginas de administración.
security = Seguridad
two-factor-title = Verificación en dos pasos
on = Activada
off = Desactivada
make-backup-codes = Crear códigos de respaldo nuevos
turn-off = Desactivar
turn-two-factor-off = Desactivar la verificación en dos pasos
enrol-step-scan = Escanea este código QR con la aplicación o escribe la clave.
enrol-step-code = Escribe el código que muestra la aplicación y tu contraseña.
qr-alt = Código QR de la clave de doble factor
code-from-app = Código de la aplicación
turn-two-factor-on = Activar la verificación en dos pasos
panel-policy = Política del panel
email-off-hint = El correo está desactivado en este panel (sin servidor SMTP): no se pueden enviar enlaces de confirmación ni de restablecimiento.
save = Guardar
two-factor-now-on = La verificación en dos pasos está activada. Guarda tus códigos de respaldo.
two-factor-now-off = La verificación en dos pasos está desactivada.
backup-codes-renewed = Códigos de respaldo nuevos: los anteriores ya no sirven.
policy-saved = Política guardada.
check-inbox-text = Hemos enviado un enlace a { $email }. Ábrelo para confirmar tu correo y luego inicia sesión. Es válido durante dos días.
two-factor-on-text = Los inicios de sesión y las acciones de dinero o seguridad piden un código de tu aplicación de autenticación.
backup-codes-left = { $n ->
    [one] Queda { $n } código de respaldo.
   *[other] Quedan { $n } códigos de respaldo.
}
reset-link-sent = Si una cuenta tiene este correo, le estamos enviando un enlace para restablecer la contraseña. Sirve una vez, durante una hora.
policy-admin-two-factor = Exigir la verificación en dos pasos a todos los administradores
policy-confirm-email = Los nuevos registros confirman su correo antes de poder iniciar sesión
two-factor-off-text = Protege tu cuenta con un código de una aplicación de autenticación (Google Authenticator, Authy, 1Password, …).
totp-key = Clave:
faq = Preguntas frecuentes
home-tagline = Seguidores, me gusta y visualizaciones para todas las plataformas, entregados automáticamente.
create-account = Crear una cuenta
see-services = Ver servicios y precios
what-we-sell = Lo que vendemos
catalogue-empty = El catálogo se está preparando.
how-it-works = Cómo funciona
your-prices = Tus precios
search-services = Busca servicios o un id
search = Buscar
platform = Plataforma
all-platforms = Todas las plataformas
type = Tipo
all-types = Todos los tipos
filter = Filtrar
no-service-matches = Ningún servicio coincide.
show-all = Ver todos
id = ID
service = Servicio
rate-per-1000 = Precio por 1000
min-max = Mín. – máx.
refill = Reposición
average-time = Tiempo medio
description = Descripción
no-refill = Sin reposición
order = Pedir
home-services-count = { $n ->
    [one] { $n } servicio
   *[other] { $n } servicios
}
home-orders-delivered = { $n } pedidos entregados
home-api-for-resellers = API v2 para revendedores
home-platform-figures = { $n ->
    [one] { $n } servicio
   *[other] { $n } servicios
} · desde { $min } { $currency } por 1000
how-funds = Añade fondos
how-funds-text = a tu monedero.
how-order = Pide
how-order-text = un servicio para tu enlace: empezamos en minutos.
how-follow = Síguelo en directo
how-follow-text = — el estado, el recuento inicial y lo que falta se actualizan solos; lo que no se entrega se reembolsa.
prices-per-1000-in = Precios por 1000 en { $currency }
n-days = { $n ->
    [one] { $n } día
   *[other] { $n } días
}
n-ratings = { $n ->
    [one] { $n } valoración
   *[other] { $n } valoraciones
}
n-orders = { $n } pedidos

# The "Updates" feed (issue 20).
nav-updates = Novedades
upd-title = Cambios de precio y disponibilidad
upd-newest = más recientes
upd-hint = Cada cambio de precio o disponibilidad de un servicio, tal como ocurrió.
upd-none = Todavía no ha cambiado ningún precio ni disponibilidad.
upd-change = Cambio
upd-price-up = Sube el precio
upd-price-down = Baja el precio
upd-available = Disponible de nuevo
upd-unavailable = Ya no está disponible
